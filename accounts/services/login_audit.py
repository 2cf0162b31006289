"""The login audit: every sign-in attempt, its outcome, and the throttle that refuses an account
after repeated failures. Rows are only ever added, never changed."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from accounts.choices import LoginMethod, LoginOutcome
from accounts.constants import LOGIN_FAILURE_LIMIT, LOGIN_FAILURE_WINDOW_SECONDS
from accounts.models import LoginEvent, User
from core.eventlog import audit_event_append
from core.net import client_ip

DIRECTORY_UNREACHABLE_MESSAGE = (
    "The directory server could not be reached. Directory accounts cannot sign in right now; "
    "local accounts still work."
)

# Successes that prove someone knew the password: they end a run of failures.
INTERACTIVE_METHODS = (LoginMethod.PASSWORD, LoginMethod.LDAP, LoginMethod.SSO)


def throttle_message(seconds_left: int) -> str:
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
) -> LoginEvent:
    """Append one login event: who (or the name they tried), from which address (trusted proxy
    headers only) and user agent, how, and with what outcome. ``request`` may be None (a login
    from a shell or a test client)."""
    meta = getattr(request, "META", None) or {}
    event = LoginEvent.objects.create(
        username=(username or "")[:150],
        user=user if user is not None and user.pk else None,
        ip_address=client_ip(request) if meta else None,
        user_agent=meta.get("HTTP_USER_AGENT", "")[:500],
        method=method,
        outcome=outcome,
        detail=(detail or "")[:300],
    )
    audit_event_append(
        actor=event.user,
        action=f"login.{outcome}" if method != "token" else f"token.{outcome}",
        subject=event,
        data={
            "username": event.username,
            "method": method,
            "ip": event.ip_address,
            "detail": event.detail,
        },
        request=request if meta else None,
    )
    return event


def login_throttled(username: str) -> int:
    """Seconds until ``username`` may try again: 0 unless it has at least
    ``LOGIN_FAILURE_LIMIT`` failures within the last ``LOGIN_FAILURE_WINDOW_SECONDS`` since its
    last successful interactive sign-in. Names are compared case-insensitively, because the
    directory compares them so and varying the case must not buy more guesses."""
    if not username:
        return 0
    now = timezone.now()
    window_start = now - timedelta(seconds=LOGIN_FAILURE_WINDOW_SECONDS)
    events = LoginEvent.objects.filter(username__iexact=username, created_at__gte=window_start)
    last_success = (
        events.filter(outcome=LoginOutcome.SUCCESS, method__in=INTERACTIVE_METHODS)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    failures = events.filter(outcome=LoginOutcome.FAILURE)
    if last_success is not None:
        failures = failures.filter(created_at__gt=last_success)
    # The account is free again once the LIMIT-th most recent failure leaves the window.
    oldest_counted = (
        failures.order_by("-created_at")
        .values_list("created_at", flat=True)[LOGIN_FAILURE_LIMIT - 1 : LOGIN_FAILURE_LIMIT]
        .first()
    )
    if oldest_counted is None:
        return 0
    free_at = oldest_counted + timedelta(seconds=LOGIN_FAILURE_WINDOW_SECONDS)
    return max(1, math.ceil((free_at - now).total_seconds()))


def login_throttle_check(*, request, username: str, method: str = LoginMethod.PASSWORD) -> int:
    """Like :func:`login_throttled`, and when the account is throttled also records the refused
    attempt (outcome throttled), so callers refuse it before any password is checked."""
    seconds_left = login_throttled(username)
    if seconds_left:
        login_event_record(
            request=request,
            username=username,
            user=_known_user(username),
            method=method,
            outcome=LoginOutcome.THROTTLED,
            detail=f"Refused for {seconds_left} s after repeated failures.",
        )
    return seconds_left


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
    if login_throttled(username):
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


def _known_user(username: str) -> User | None:
    if not username:
        return None
    return User.objects.filter(username=username).first()
