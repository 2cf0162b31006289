"""Personal API tokens: created by their owner for themself, shown once, stored as a hash,
scoped, expiring and revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.choices import LoginMethod, LoginOutcome, TokenScope
from accounts.models import ApiToken, LoginEvent, User
from accounts.services.login_audit import login_event_record
from accounts.services.teams import is_administrator
from accounts.token_lookup import token_with_access
from core.errors import Forbidden, InvalidInput, StewardError
from core.eventlog import audit_event_append
from core.net import client_ip

SECRET_PREFIX = "stw_"
PREFIX_LENGTH = 12  # "stw_" and 8 random characters: enough to name a token, useless to guess it
NAME_MAX_LENGTH = 100
# last_used_at / last_used_ip are written at most this often, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenRefused(StewardError):
    """A bearer token that does not let anyone in; the message says why."""

    status_code = 401
    default_code = "authentication_failed"


def token_hash(secret: str) -> str:
    """SHA-256 of a secret. A token is 256 random bits, so a fast hash cannot be brute-forced
    and needs no salt."""
    return hashlib.sha256(secret.encode()).hexdigest()


def token_scopes_clean(scopes) -> list[str]:
    """The requested scopes, deduplicated, in the canonical order; refused when empty or
    unknown."""
    if isinstance(scopes, str) or not scopes:
        raise InvalidInput(
            "A token needs at least one scope.", field_errors={"scopes": ["Choose a scope."]}
        )
    unknown = sorted({str(scope) for scope in scopes} - set(TokenScope.values))
    if unknown:
        raise InvalidInput(
            f"Unknown token scope: {', '.join(unknown)}.",
            field_errors={"scopes": [f"Choose from {', '.join(TokenScope.values)}."]},
        )
    return [scope for scope in TokenScope.values if scope in scopes]


@transaction.atomic
def token_create(
    *, actor: User, name: str, scopes, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token for ``actor`` (there is no way to create one for anyone else) and return
    it with its secret, which is not stored and cannot be shown again."""
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Give the token a name that says where it is used."]
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = [f"At most {NAME_MAX_LENGTH} characters."]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = ["The expiry must be in the future."]
    if errors:
        raise InvalidInput(next(iter(errors.values()))[0], field_errors=errors)
    clean_scopes = token_scopes_clean(scopes)
    if not (actor.is_authenticated and actor.is_active):
        raise Forbidden("Sign in to create a token.")
    secret = _new_secret()
    token = ApiToken.objects.create(
        user=actor,
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        secret_hash=token_hash(secret),
        scopes=clean_scopes,
        expires_at=expires_at,
    )
    audit_event_append(
        actor=actor,
        action="token.create",
        subject=token,
        data={
            "owner": actor.get_username(),
            "name": name,
            "prefix": token.prefix,
            "scopes": clean_scopes,
            "expires_at": expires_at,
        },
    )
    return token, secret


@transaction.atomic
def token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    """Revoke ``token`` for good; the row stays, for the audit. Owners revoke their own tokens,
    administrators anyone's. Revoking a revoked token changes nothing."""
    if token.user_id != actor.pk and not is_administrator(actor):
        raise Forbidden("Only the token's owner or an administrator may revoke it.")
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
        audit_event_append(
            actor=actor,
            action="token.revoke",
            subject=token,
            data={"owner": token.user.get_username(), "name": token.name, "prefix": token.prefix},
        )
    return token


def token_authenticate(secret: str, ip: str | None = None, *, request=None) -> ApiToken:
    """The live token ``secret`` belongs to, its use recorded (last used time and address, and
    the user's first token use of the day as a login event). Raises :class:`TokenRefused`, with
    the reason, for an unknown, revoked or expired token or a disabled user, after recording the
    failed attempt. ``request`` (optional) supplies the address and user agent of login events;
    ``ip`` defaults to its client address."""
    if ip is None and request is not None:
        ip = client_ip(request)
    digest = token_hash(secret)
    # Looked up by the hash of the secret, so timing reveals nothing about any stored secret;
    # the comparison is constant-time all the same.
    token = token_with_access(digest)
    if token is None or not hmac.compare_digest(token.secret_hash, digest):
        _refuse(request, None, "Invalid API token.", "unknown token")
    now = timezone.now()
    if token.revoked_at is not None:
        _refuse(request, token, f"The API token {token.prefix}… has been revoked.", "revoked")
    if token.expires_at is not None and token.expires_at <= now:
        _refuse(request, token, f"The API token {token.prefix}… has expired.", "expired")
    if not token.user.is_active:
        _refuse(request, token, "The API token's user account is disabled.", "user disabled")
    _token_use_record(token, now=now, ip=ip, request=request)
    return token


def _token_use_record(token: ApiToken, *, now: datetime, ip: str | None, request) -> None:
    previous = token.last_used_at
    if previous is not None and now - previous < LAST_USED_RESOLUTION:
        return
    # A conditional update, not save(): last-use bookkeeping is not an audited change, and of
    # two simultaneous requests only one writes.
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    written = ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now, last_used_ip=ip)
    token.last_used_at, token.last_used_ip = now, ip
    if written and (previous is None or previous.date() < now.date()):
        _first_use_of_day_record(token, now=now, request=request)


def _first_use_of_day_record(token: ApiToken, *, now: datetime, request) -> None:
    """One login event a day for token use, whichever of the user's tokens was used first."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if LoginEvent.objects.filter(
        user=token.user_id,
        method=LoginMethod.TOKEN,
        outcome=LoginOutcome.SUCCESS,
        created_at__gte=midnight,
    ).exists():
        return
    login_event_record(
        request=request,
        username=token.user.get_username(),
        user=token.user,
        method=LoginMethod.TOKEN,
        outcome=LoginOutcome.SUCCESS,
        detail=f"First use today of token {token.prefix}… ({token.name})",
    )


def _refuse(request, token: ApiToken | None, message: str, reason: str) -> None:
    login_event_record(
        request=request,
        username=token.user.get_username() if token else "",
        user=token.user if token else None,
        method=LoginMethod.TOKEN,
        outcome=LoginOutcome.FAILURE,
        detail=f"Token {token.prefix}…: {reason}" if token else reason.capitalize(),
    )
    raise TokenRefused(message)


def _new_secret() -> str:
    while True:
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        if not ApiToken.objects.filter(prefix=secret[:PREFIX_LENGTH]).exists():
            return secret
