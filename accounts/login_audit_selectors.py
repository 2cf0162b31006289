"""Reads of the login audit, for auditors and administrators: the events, newest first. The page
and the API both narrow them with ``accounts.filters.LoginEventFilter``, so they agree."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import LoginEvent


def login_event_list() -> QuerySet[LoginEvent]:
    """Every login event, newest first, to be narrowed by a bound ``LoginEventFilter``. Callers
    check ``may(user, Verb.READ_AUDIT)`` first."""
    return LoginEvent.objects.select_related("user").order_by("-created_at", "-id")
