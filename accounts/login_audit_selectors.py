"""Reads of the login audit, for auditors and administrators: who may read it, and the events
matching a filter. The page and the API both parse their filters here, so they agree."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet

from accounts.choices import LoginMethod, LoginOutcome
from accounts.models import LoginEvent
from core.dates import filter_moment
from core.errors import InvalidInput

# A single sign-on's method: "oidc:<provider key>" (config.sso) or "saml:<provider key>"
# (config.saml), of this provider or an earlier.
_SIGN_ON_METHOD = re.compile(r"^(oidc|saml):[a-z0-9][a-z0-9-]{0,31}$")


def login_method_choices() -> list[tuple[str, str]]:
    """The methods a filter offers: the fixed ones, and the configured provider's."""
    choices = list(LoginMethod.choices)
    for setting in ("STEWARD_OIDC", "STEWARD_SAML"):
        provider = getattr(settings, setting, None)
        if provider is not None:
            choices.append((provider.login_method, f"{provider.name} (single sign-on)"))
    return choices


@dataclass(frozen=True)
class LoginEventFilters:
    username: str = ""
    outcome: str = ""
    method: str = ""
    since: datetime | None = None
    until: datetime | None = None

    @property
    def active(self) -> bool:
        return any([self.username, self.outcome, self.method, self.since, self.until])


def login_event_filters_clean(params) -> LoginEventFilters:
    """Filters from query parameters ``username`` (part of the name), ``outcome``, ``method``,
    ``since`` and ``until`` (a date, which counts whole days, or an ISO date-time, UTC unless
    it says otherwise). Bad values raise InvalidInput."""
    outcome = params.get("outcome", "").strip()
    method = params.get("method", "").strip()
    errors: dict[str, list[str]] = {}
    if outcome and outcome not in LoginOutcome.values:
        errors["outcome"] = [f"Choose from {', '.join(LoginOutcome.values)}."]
    if method and method not in LoginMethod.values and not _SIGN_ON_METHOD.match(method):
        errors["method"] = [
            f"Choose from {', '.join(LoginMethod.values)}, oidc:<provider> or saml:<provider>."
        ]
    since = filter_moment(params.get("since", ""), "since", errors, end_of_day=False)
    until = filter_moment(params.get("until", ""), "until", errors, end_of_day=True)
    if errors:
        field, messages = next(iter(errors.items()))
        raise InvalidInput(f"Invalid filter '{field}': {messages[0]}", field_errors=errors)
    return LoginEventFilters(
        username=params.get("username", "").strip()[:150],
        outcome=outcome,
        method=method,
        since=since,
        until=until,
    )


def login_event_list(*, filters: LoginEventFilters | None = None) -> QuerySet[LoginEvent]:
    """Login events matching ``filters``, newest first. Callers check
    ``may(user, Verb.READ_AUDIT)`` first."""
    events = LoginEvent.objects.select_related("user").order_by("-created_at", "-id")
    if filters is None:
        return events
    if filters.username:
        events = events.filter(username__icontains=filters.username)
    if filters.outcome:
        events = events.filter(outcome=filters.outcome)
    if filters.method:
        events = events.filter(method=filters.method)
    if filters.since:
        events = events.filter(created_at__gte=filters.since)
    if filters.until:
        events = events.filter(created_at__lt=filters.until)
    return events
