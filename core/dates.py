"""Reading the dates and times people type into filters."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django.utils.dateparse import parse_date, parse_datetime


def filter_moment(raw: str, field: str, errors: dict, *, end_of_day: bool) -> datetime | None:
    """A "since"/"until" filter value: a bare date (``2026-11-27``) or an ISO 8601 date-time,
    as an aware datetime (UTC unless it says otherwise). "until" a bare date includes that
    whole day. An unreadable value is added to ``errors`` under ``field``."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        # A bare date first: parse_datetime() also reads "2026-11-27", as its midnight.
        day = parse_date(raw)
        moment = None if day else parse_datetime(raw)
    except ValueError:
        moment = day = None
    if day is not None:
        start = datetime.combine(day, time.min, tzinfo=UTC)
        return start + timedelta(days=1) if end_of_day else start
    if moment is not None:
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    errors[field] = ["Give a date (YYYY-MM-DD) or an ISO 8601 date-time."]
    return None
