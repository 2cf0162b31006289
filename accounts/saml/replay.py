"""Replay protection: every SAML response and assertion Steward signs someone in with is
recorded by (issuer, ID); presenting one again is refused, from any browser or process."""

from __future__ import annotations

import base64
import binascii
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from saml2 import samlp

from accounts.models import SamlMessageUse

KEEP = timedelta(days=2)  # far beyond any assertion lifetime plus the clock skew allowed


def response_ids_peek(saml_response: str) -> tuple[str, str] | None:
    """The issuer and ID a (not yet verified) response claims, to refuse a replay before
    anything else; None when it does not parse (pysaml2 then says why)."""
    try:
        xml = base64.b64decode(saml_response, validate=False)
        response = samlp.response_from_string(xml)
    except (binascii.Error, ValueError, TypeError, SyntaxError, Exception):  # noqa: BLE001
        return None
    if response is None or not response.id:
        return None
    issuer = response.issuer.text if response.issuer is not None else ""
    return (issuer or "").strip(), response.id


def saml_message_used(*, issuer: str, message_id: str) -> bool:
    return SamlMessageUse.objects.filter(issuer=issuer[:1024], message_id=message_id).exists()


def saml_messages_use(*, issuer: str, message_ids: list[str]) -> bool:
    """Record the messages as used; False (and nothing recorded) if any was used before."""
    try:
        with transaction.atomic():
            for message_id in message_ids:
                SamlMessageUse.objects.create(issuer=issuer[:1024], message_id=message_id[:256])
    except IntegrityError:
        return False
    return True


def saml_message_uses_prune() -> int:
    """Forget uses older than KEEP (their messages expired long ago)."""
    deleted, _ = SamlMessageUse.objects.filter(used_at__lt=timezone.now() - KEEP).delete()
    return deleted
