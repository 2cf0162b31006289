"""The auditor's trail in the browser: the decisions timeline (the default), the raw log (audit
events merged with field changes, filtered) and its CSV and JSON downloads. Only superusers,
global administrators and global auditors may see them."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import may
from accounts.choices import Verb
from core.errors import Forbidden
from core.filters import page_filterset
from core.models import AuditEvent
from core.pages import page_view
from governance.filters import TimelineFilter, TrailFilter
from governance.trail import (
    TrailFilters,
    TrailRow,
    TrailSource,
    audit_chain_status,
    trail_keys,
    trail_rows,
    trail_stream,
)
from governance.trail_export import trail_csv_response, trail_json_response
from governance.trail_timeline import (
    TIMELINE_VERSIONS_PER_PAGE,
    timeline_decision_count,
    timeline_raw_count,
    timeline_version_ids,
    version_timelines,
)

TRAIL_PAGE_SIZE = 50
DETAIL_LINES_SHOWN = 6
DETAIL_VALUE_CHARS = 120
# How auditlog writes an empty reverse relation of a new record ("registry.Dataset.None").
EMPTY_RELATION = re.compile(r"^\w+\.\w+\.None$")


def auditor_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page (``core.pages.page_view``) for those who may read the trail: anyone else gets a
    403 page, and bad filters a 400 page."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not may(request.user, Verb.READ_AUDIT):
            raise Forbidden("Only auditors and administrators may read the audit trail.")
        return view(request, *args, **kwargs)

    return page_view(wrapper)


@auditor_page
def audit_timeline(request: HttpRequest) -> HttpResponse:
    """Decisions per version as a timeline, the most recently decided version first, under the
    chain's verification status; the raw log is the other tab."""
    form = page_filterset(TimelineFilter, request, AuditEvent.objects.none())
    filters = form.trail
    page = Paginator(timeline_version_ids(filters), TIMELINE_VERSIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "governance/trail_timeline.html",
        {
            "page": page,
            "timelines": version_timelines(list(page.object_list), filters),
            "decision_count": timeline_decision_count(filters),
            "raw_count": timeline_raw_count(filters),
            "filters": form,
            "chain": audit_chain_status(),
            "query_string": query.urlencode(),
        },
    )


@auditor_page
def audit_trail(request: HttpRequest) -> HttpResponse:
    """Audit events and field changes, newest first, filtered, 50 a page, under the chain's
    verification status."""
    form = page_filterset(TrailFilter, request, AuditEvent.objects.none())
    filters = form.trail
    page = Paginator(trail_keys(filters), TRAIL_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(row, _detail_lines(row)) for row in trail_rows(page.object_list)]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "governance/trail.html",
        {
            "page": page,
            "rows": rows,
            "filters": form,
            "chain": audit_chain_status(),
            "query_string": query.urlencode(),
        },
    )


@auditor_page
def audit_export_csv(request: HttpRequest) -> HttpResponse:
    """The filtered trail as a CSV download."""
    return trail_csv_response(trail_stream(_trail_filters(request)))


@auditor_page
def audit_export_json(request: HttpRequest) -> HttpResponse:
    """The filtered trail as a JSON download, with the chain's verification status."""
    filters = _trail_filters(request)
    return trail_json_response(trail_stream(filters), filters=filters, chain=audit_chain_status())


def _trail_filters(request: HttpRequest) -> TrailFilters:
    """The raw log's filters of a download (the page's, so the file holds what it lists)."""
    return page_filterset(TrailFilter, request, AuditEvent.objects.none()).trail


def _detail_lines(row: TrailRow) -> list[str]:
    """A few readable lines of a row's details: ``key: value`` of an event's data; for a field
    change ``field: old → new``, only the new value of a created record (its empty fields
    left out) and the old one of a deleted record."""
    if row.source == TrailSource.CHANGE:
        items = [(key, _change_text(row.action, value)) for key, value in row.details.items()]
        items = [(key, text) for key, text in items if text is not None]
    else:
        items = [(key, _short(value)) for key, value in row.details.items()]
    lines = [f"{key}: {text}" for key, text in items[:DETAIL_LINES_SHOWN]]
    if len(items) > DETAIL_LINES_SHOWN:
        lines.append(f"… {len(items) - DETAIL_LINES_SHOWN} more in the export")
    return lines


def _change_text(action: str, value: Any) -> str | None:
    if isinstance(value, dict) and value.get("type") == "m2m":
        return f"{value.get('operation', '')} {_short(value.get('objects', []))}"
    if not (isinstance(value, list) and len(value) == 2):
        return _short(value)
    old, new = value
    if action == "create":
        return (
            None
            if new in (None, "None", "", "{}") or EMPTY_RELATION.match(str(new))
            else _short(new)
        )
    if action == "delete":
        return _short(old)
    return f"{_short(old)} → {_short(new)}"


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= DETAIL_VALUE_CHARS else text[: DETAIL_VALUE_CHARS - 1] + "…"
