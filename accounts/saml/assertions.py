"""Reading the IdP's response: pysaml2 verifies it (signature against the IdP's metadata
certificate, audience, recipient, validity window within the clock skew, InResponseTo one of
this browser's outstanding requests); what it refuses becomes a :class:`SignOnRefused` with
the reason the login audit records. The verified assertion's NameID and attributes become the
claims the account sync reads."""

from __future__ import annotations

import base64
import logging

import saml2
from saml2 import samlp
from saml2.response import StatusError, UnsolicitedResponse
from saml2.saml import NAMEID_FORMAT_TRANSIENT
from saml2.sigver import MissingKey, SignatureError
from saml2.validate import ResponseLifetimeExceed, ToEarly

from accounts.choices import SignOnRefusal
from accounts.services.identities import SignOnRefused
from config.saml import SamlProvider

logger = logging.getLogger(__name__)


class AssertionRefused(Exception):
    def __init__(self, refused: SignOnRefused):
        super().__init__(refused.detail)
        self.refused = refused


def _refusal(exc: Exception) -> SignOnRefused:
    """The reason for pysaml2's refusal; its exceptions are coarse, so the text decides too."""
    text = str(exc)
    if isinstance(exc, SignatureError | MissingKey) or type(exc).__name__ == "IncorrectlySigned":
        if "missing" in text.lower():
            return SignOnRefused(SignOnRefusal.SIGNATURE, "the assertion is not signed")
        return SignOnRefused(
            SignOnRefusal.SIGNATURE, "the signature does not verify with the IdP's certificate"
        )
    if isinstance(exc, ResponseLifetimeExceed):
        return SignOnRefused(SignOnRefusal.EXPIRED, f"the assertion has expired ({text})")
    if text == "Condition not OK":  # NotBefore / NotOnOrAfter out of order
        return SignOnRefused(SignOnRefusal.EXPIRED, "the assertion's validity window is void")
    if isinstance(exc, ToEarly):
        return SignOnRefused(SignOnRefusal.EXPIRED, f"the assertion is not valid yet ({text})")
    if isinstance(exc, UnsolicitedResponse):
        return SignOnRefused(
            SignOnRefusal.UNSOLICITED,
            "the response answers no sign-on this browser started (or one already completed)",
        )
    if "AudienceRestrictions" in text:
        return SignOnRefused(
            SignOnRefusal.AUDIENCE, "the assertion is addressed to another service provider"
        )
    lowered = text.lower()
    if "recipient" in lowered or "destination" in lowered or "destined for me" in lowered:
        return SignOnRefused(
            SignOnRefusal.AUDIENCE, "the response is addressed to another recipient"
        )
    if isinstance(exc, StatusError):
        return SignOnRefused(SignOnRefusal.PROVIDER_ERROR, f"the IdP answered {text[:150]}")
    return SignOnRefused(SignOnRefusal.MALFORMED, f"{type(exc).__name__}: {text[:150]}")


def verified_claims(client, provider: SamlProvider, raw: str, outstanding: dict):
    """The verified response and its claims (``sub`` = the NameID, then the attributes by
    Name and FriendlyName); AssertionRefused with the reason otherwise."""
    try:
        response = client.parse_authn_request_response(raw, saml2.BINDING_HTTP_POST, outstanding)
    except Exception as exc:  # noqa: BLE001 - pysaml2 raises many types; each is a refusal
        logger.info("SAML response refused: %s: %s", type(exc).__name__, exc)
        raise AssertionRefused(_refusal(exc)) from exc
    if response is None or response.assertion is None:
        # pysaml2 gives up without an exception on a Destination that is not this consumer,
        # a bad issue instant or status.
        destination = _destination_peek(raw)
        if destination and destination not in _consumer_addresses(client):
            raise AssertionRefused(
                SignOnRefused(
                    SignOnRefusal.AUDIENCE, "the response is addressed to another recipient"
                )
            )
        raise AssertionRefused(
            SignOnRefused(
                SignOnRefusal.MALFORMED, "no valid assertion (its issue time or status is bad)"
            )
        )
    if not getattr(response.assertion, "signature", None):
        # pysaml2 accepts an assertion inside a signed response; Steward wants the assertion
        # itself signed (what ADFS, Entra ID and Okta do by default).
        raise AssertionRefused(
            SignOnRefused(SignOnRefusal.SIGNATURE, "the assertion is not signed")
        )
    name_id = response.name_id
    subject = (getattr(name_id, "text", "") or "").strip()
    if not subject:
        raise AssertionRefused(SignOnRefused(SignOnRefusal.CLAIMS, "the assertion has no NameID"))
    if getattr(name_id, "format", None) == NAMEID_FORMAT_TRANSIENT:
        raise AssertionRefused(
            SignOnRefused(
                SignOnRefusal.CLAIMS,
                "the NameID is transient (changes at every sign-on); configure the IdP to "
                "send a persistent NameID",
                subject=subject,
            )
        )
    return response, {**assertion_attributes(response.assertion), "sub": subject}


def _destination_peek(raw: str) -> str:
    try:
        response = samlp.response_from_string(base64.b64decode(raw))
    except Exception:  # noqa: BLE001 - pysaml2 has already refused it; this only names why
        return ""
    return (getattr(response, "destination", "") or "") if response is not None else ""


def _consumer_addresses(client) -> set[str]:
    endpoints = client.config.getattr("endpoints", "sp") or {}
    return {address for address, _ in endpoints.get("assertion_consumer_service", [])}


def assertion_attributes(assertion) -> dict:
    """Attribute values by Name and by FriendlyName: a single value as text, several (or the
    groups) as a list. ADFS names attributes by claim-type URI, Shibboleth by OID with a
    FriendlyName."""
    found: dict[str, list[str]] = {}
    for statement in assertion.attribute_statement or []:
        for attribute in statement.attribute or []:
            values = [
                (value.text or "").strip()
                for value in attribute.attribute_value or []
                if value.text and value.text.strip()
            ]
            for name in {attribute.name, attribute.friendly_name} - {None, ""}:
                found.setdefault(name, []).extend(values)
    return {name: values[0] if len(values) == 1 else values for name, values in found.items()}
