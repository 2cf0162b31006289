"""The login audit: every sign-in attempt and its outcome, in the ``LoginEvent`` table, and in the
hash-chained audit log (successes always; unsuccessful attempts sampled, see
:func:`login_event_record`); the throttle (:mod:`accounts.services.login_throttle`) that refuses
repeated failures. Rows are never changed; unsuccessful attempts older than
``STEWARD_LOGIN_FAILURE_KEEP_DAYS`` are pruned (:func:`login_events_prune`)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.choices import LoginMethod, LoginOutcome
from accounts.models import LoginEvent, User
from accounts.services.login_throttle import (
    Throttle,
    address_key,
    login_throttle_for,
    window_seconds,
)
from core.eventlog import audit_event_append
from core.net import client_ip

DIRECTORY_UNREACHABLE_MESSAGE = (
    "The directory server could not be reached. Directory accounts cannot sign in right now; "
    "local accounts still work."
)


def throttle_message(seconds_left: int) -> str:
    """The refusal of an account throttled from the caller's address (rule 1 of
    :mod:`accounts.services.login_throttle`)."""
    minutes = max(1, math.ceil(seconds_left / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed sign-ins for this account. Try again in {minutes} {unit}."


def directory_error_of(request) -> str:
    """What the LDAP backend said when the directory could not be reached during this request's
    ``authenticate()`` (it sets ``request.steward_directory_error``), or ""."""
    return str(getattr(request, "steward_directory_error", "") or "") if request else ""


def login_event_record(
    *,
    request,
    username: str,
    user: User | None = None,
    method: str,
    outcome: str,
    detail: str = "",
    subject: str = "",
) -> LoginEvent:
    """Append one login event: who (or the name they tried), from which address (trusted proxy
    headers only) and user agent, how (``oidc:<provider>`` for a single sign-on, with the
    provider's ``subject`` of the person), and with what outcome. ``request`` may be None (a
    login from a shell or a test client).

    Successes and logouts always go into the audit chain too. Unsuccessful attempts are
    anonymous input anyone can send, so they are sampled: the 1st, 10th, 100th, 1000th… from
    one address (IPv4, or IPv6 /64) within a fixed window of ``STEWARD_LOGIN_WINDOW_MINUTES``
    go into the chain, with that count, and at most ``STEWARD_LOGIN_CHAIN_FAILURES_PER_WINDOW``
    a window from all addresses together. Every attempt keeps its row here, with
    ``in_chain`` saying whether the chain has it."""
    meta = getattr(request, "META", None) or {}
    ip = client_ip(request) if meta else None
    address = address_key(ip)
    with transaction.atomic():
        sample = _chain_sample(address) if outcome != LoginOutcome.SUCCESS else None
        event = LoginEvent.objects.create(
            username=(username or "")[:150],
            user=user if user is not None and user.pk else None,
            ip_address=ip,
            address=address,
            user_agent=meta.get("HTTP_USER_AGENT", "")[:500],
            method=method,
            outcome=outcome,
            detail=(detail or "")[:300],
            subject=(subject or "")[:255],
            in_chain=sample is None or sample["in_chain"],
        )
        if event.in_chain:
            data = {
                "username": event.username,
                "method": method,
                "ip": event.ip_address,
                "detail": event.detail,
            }
            if event.subject:
                data["subject"] = event.subject
            if sample is not None:
                data.update(
                    attempts_from_address=sample["count"], window_start=sample["window_start"]
                )
            audit_event_append(
                actor=event.user,
                action=f"login.{outcome}" if method != "token" else f"token.{outcome}",
                subject=event,
                data=data,
                request=request if meta else None,
            )
    return event


def _chain_sample(address: str) -> dict:
    """Whether an unsuccessful attempt from ``address`` goes into the chain: the attempt's
    number from that address in the current fixed window, and the window's start."""
    length = window_seconds()
    now = timezone.now()
    start = datetime.fromtimestamp(now.timestamp() // length * length, tz=UTC)
    unsuccessful = LoginEvent.objects.filter(created_at__gte=start).exclude(
        outcome=LoginOutcome.SUCCESS
    )
    count = unsuccessful.filter(address=address).count() + 1
    # 1, 10, 100, 1000...: a count that is a power of ten.
    in_chain = 10 ** (len(str(count)) - 1) == count
    if in_chain:
        cap = settings.STEWARD_LOGIN_CHAIN_FAILURES_PER_WINDOW
        in_chain = unsuccessful.filter(in_chain=True).count() < cap
    return {"in_chain": in_chain, "count": count, "window_start": start.isoformat()}


def login_throttled(username: str, ip: str | None = None) -> int:
    """Seconds until ``username`` may try again from ``ip``; 0 when it may now (see
    :mod:`accounts.services.login_throttle` for the rules)."""
    return login_throttle_for(username, ip).seconds


def login_throttle_check(*, request, username: str, method: str = LoginMethod.PASSWORD) -> Throttle:
    """The throttle for a sign-in as ``username`` from the request's address; when it refuses,
    the refused attempt is also recorded (outcome throttled), so callers refuse it before any
    password is checked. The result is false when the sign-in may go ahead."""
    throttle = login_throttle_for(username, _ip_of(request))
    if throttle:
        login_event_record(
            request=request,
            username=username,
            user=_known_user(username),
            method=method,
            outcome=LoginOutcome.THROTTLED,
            detail=f"Refused for {throttle.seconds} s: {throttle.message}",
        )
    return throttle


def login_failure_record(*, request, username: str) -> LoginEvent:
    """Record a failed sign-in (called for Django's ``user_login_failed``). A directory
    account's failure while the directory was unreachable is recorded as an error with the
    backend's message; one refused by the throttle guard (no password was checked) as
    throttled; anything else as a failure."""
    user = _known_user(username)
    local_account = user is not None and not user.directory_dn
    method = LoginMethod.PASSWORD if user is None or local_account else LoginMethod.LDAP
    directory_error = directory_error_of(request)
    # A local account's wrong password is a failure even while the directory is down: it must
    # count towards the throttle, or an outage would open a window for guessing.
    if directory_error and not local_account:
        return login_event_record(
            request=request,
            username=username,
            user=user,
            method=LoginMethod.LDAP,
            outcome=LoginOutcome.ERROR,
            detail=directory_error,
        )
    if login_throttled(username, _ip_of(request)):
        return login_event_record(
            request=request,
            username=username,
            user=user,
            method=method,
            outcome=LoginOutcome.THROTTLED,
            detail="Refused without checking the password.",
        )
    return login_event_record(
        request=request,
        username=username,
        user=user,
        method=method,
        outcome=LoginOutcome.FAILURE,
        detail=directory_error,  # the directory was down, yet this was a local account
    )


def login_success_record_daily(*, request, user: User, method: str) -> LoginEvent | None:
    """Record that ``user`` got in by ``method``, unless that was already recorded today (UTC):
    API clients authenticate on every request, and one row a day says who used what."""
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    already = LoginEvent.objects.filter(
        user=user, method=method, outcome=LoginOutcome.SUCCESS, created_at__gte=midnight
    ).exists()
    if already:
        return None
    return login_event_record(
        request=request,
        username=user.get_username(),
        user=user,
        method=method,
        outcome=LoginOutcome.SUCCESS,
    )


@transaction.atomic
def login_events_prune(*, now: datetime | None = None) -> int:
    """Delete unsuccessful sign-in attempts older than ``STEWARD_LOGIN_FAILURE_KEEP_DAYS`` (the
    chain keeps its samples of them); successes and logouts are kept. The pruning itself goes
    into the chain. Returns the number deleted."""
    days = settings.STEWARD_LOGIN_FAILURE_KEEP_DAYS
    before = (now or timezone.now()) - timedelta(days=days)
    old = LoginEvent.objects.filter(created_at__lt=before).exclude(outcome=LoginOutcome.SUCCESS)
    deleted, _ = old.delete()
    if deleted:
        audit_event_append(
            actor=None,
            action="login.prune",
            subject_type="accounts.loginevent",
            subject_label="unsuccessful sign-in attempts",
            data={"deleted": deleted, "before": before.isoformat(), "keep_days": days},
        )
    return deleted


def _ip_of(request) -> str | None:
    return client_ip(request) if getattr(request, "META", None) else None


def _known_user(username: str) -> User | None:
    if not username:
        return None
    return User.objects.filter(username=username).first()
