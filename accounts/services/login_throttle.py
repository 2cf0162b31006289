"""The failed sign-in throttle: per address, per address and account, and per account.

Counting failures per account alone (as Steward once did: five anywhere locked the account for
everyone) lets anyone lock a known user out, the administrator included, and does nothing
against one address trying one or two passwords on many accounts (spraying). So, within a
sliding window of ``STEWARD_LOGIN_WINDOW_MINUTES``:

1. **Address and account**: ``STEWARD_LOGIN_FAILURE_LIMIT`` failures for one account from one
   address (since that account's last successful sign-in from there) refuse that account *from
   that address*. Guessing one password from one place stops; the owner elsewhere is unaffected.
2. **Address**: ``STEWARD_LOGIN_ADDRESS_FAILURE_LIMIT`` failures from one address, whatever the
   names, refuse that address for every account, except accounts that signed in successfully
   from it within ``STEWARD_LOGIN_KNOWN_ADDRESS_DAYS`` (colleagues behind the same NAT).
3. **Account, all addresses**: ``STEWARD_LOGIN_ACCOUNT_FAILURE_LIMIT`` failures for one account
   from anywhere (a distributed attack) refuse it from every address it has not signed in from
   within ``STEWARD_LOGIN_KNOWN_ADDRESS_DAYS``; its owner at a known address still gets in.

An address is the IPv4 address or the IPv6 /64 (a host can pick any address of its /64).
Only failures count: a refused attempt checks no password, so an attacker who keeps trying
once refused does not extend anything. Names are compared case-insensitively."""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from accounts.choices import LoginMethod, LoginOutcome
from accounts.constants import LOGIN_FAILURE_LIMIT, LOGIN_FAILURE_WINDOW_SECONDS
from accounts.models import LoginEvent

# Successes that prove someone knew the password: they end a run of failures.
INTERACTIVE_METHODS = (LoginMethod.PASSWORD, LoginMethod.LDAP, LoginMethod.SSO)

ACCOUNT_HERE = "Too many failed sign-ins for this account. Try again in {wait}."
ADDRESS = "Too many failed sign-ins from your address. Try again in {wait}."
ACCOUNT_EVERYWHERE = (
    "Too many failed sign-ins for this account from many addresses. Sign in from an address "
    "you have used before, or try again in {wait}."
)


@dataclass(frozen=True)
class Throttle:
    """Why and for how long a sign-in is refused before any password is checked; false when
    it is not."""

    seconds: int = 0
    message: str = ""

    def __bool__(self) -> bool:
        return self.seconds > 0


def address_key(ip: str | None) -> str:
    """What the throttle counts by: the IPv4 address, or the IPv6 address's /64 network; ""
    when unknown."""
    if not ip:
        return ""
    try:
        address = ipaddress.ip_address(str(ip))
    except ValueError:
        return ""
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def window_seconds() -> int:
    minutes = getattr(settings, "STEWARD_LOGIN_WINDOW_MINUTES", None)
    return minutes * 60 if minutes else LOGIN_FAILURE_WINDOW_SECONDS


def login_throttle_for(username: str, ip: str | None) -> Throttle:
    """Whether a sign-in as ``username`` from ``ip`` is refused now, and for how long."""
    if not username:
        return Throttle()
    now = timezone.now()
    since = now - timedelta(seconds=window_seconds())
    address = address_key(ip)
    failures = LoginEvent.objects.filter(outcome=LoginOutcome.FAILURE, created_at__gte=since)
    here = _failures_since_last_success(username, address, since)
    limit = getattr(settings, "STEWARD_LOGIN_FAILURE_LIMIT", LOGIN_FAILURE_LIMIT)
    seconds = _seconds_left(here, limit, now)
    if seconds:
        return Throttle(seconds, ACCOUNT_HERE.format(wait=_wait(seconds)))
    for rows, setting, message in (
        (failures.filter(address=address), "STEWARD_LOGIN_ADDRESS_FAILURE_LIMIT", ADDRESS),
        (
            failures.filter(username__iexact=username),
            "STEWARD_LOGIN_ACCOUNT_FAILURE_LIMIT",
            ACCOUNT_EVERYWHERE,
        ),
    ):
        seconds = _seconds_left(rows, getattr(settings, setting), now)
        if seconds and not _known_address(username, address, now):
            return Throttle(seconds, message.format(wait=_wait(seconds)))
    return Throttle()


def _failures_since_last_success(username: str, address: str, since: datetime) -> QuerySet:
    events = LoginEvent.objects.filter(
        username__iexact=username, address=address, created_at__gte=since
    )
    last_success = (
        events.filter(outcome=LoginOutcome.SUCCESS, method__in=INTERACTIVE_METHODS)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    failures = events.filter(outcome=LoginOutcome.FAILURE)
    return failures.filter(created_at__gt=last_success) if last_success else failures


def _seconds_left(failures: QuerySet, limit: int, now: datetime) -> int:
    """Seconds until fewer than ``limit`` of ``failures`` are in the window: free again once
    the limit-th most recent one leaves it."""
    oldest_counted = (
        failures.order_by("-created_at")
        .values_list("created_at", flat=True)[limit - 1 : limit]
        .first()
    )
    if oldest_counted is None:
        return 0
    free_at = oldest_counted + timedelta(seconds=window_seconds())
    return max(1, math.ceil((free_at - now).total_seconds()))


def _known_address(username: str, address: str, now: datetime) -> bool:
    """Whether ``username`` signed in successfully from ``address`` lately."""
    days = getattr(settings, "STEWARD_LOGIN_KNOWN_ADDRESS_DAYS", 30)
    return (
        bool(address)
        and LoginEvent.objects.filter(
            username__iexact=username,
            address=address,
            outcome=LoginOutcome.SUCCESS,
            method__in=INTERACTIVE_METHODS,
            created_at__gte=now - timedelta(days=days),
        ).exists()
    )


def _wait(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"
