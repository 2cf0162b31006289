"""The audit trail as downloadable CSV and JSON, streamed row by row. The page and the API both
answer with these responses, so a file is the same whichever way it was asked for."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import StreamingHttpResponse
from django.utils import timezone

from core.downloads import mark_as_download
from governance.trail import ChainStatus, TrailFilters, TrailRow

EXPORT_FIELDS = [
    "source",
    "id",
    "sequence",
    "at",
    "actor",
    "action",
    "subject_type",
    "subject_id",
    "subject_label",
    "scope_model",
    "scope_version",
    "remote_addr",
    "request_id",
    "details",
    "prev_hash",
    "hash",
]
# A spreadsheet would run a cell starting with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def trail_row_as_dict(row: TrailRow) -> dict[str, Any]:
    """A row as plain JSON values, keys in ``EXPORT_FIELDS`` order."""
    values = {name: getattr(row, name) for name in EXPORT_FIELDS}
    values["at"] = row.at.isoformat()
    return values


def trail_csv_response(rows: Iterable[TrailRow]) -> StreamingHttpResponse:
    """One header line, then one line per row; ``details`` is compact JSON. A text cell that a
    spreadsheet would run as a formula gets a leading apostrophe (the JSON export is exact)."""
    return _download(_csv_lines(rows), "text/csv; charset=utf-8", "csv")


def trail_json_response(
    rows: Iterable[TrailRow], *, filters: TrailFilters, chain: ChainStatus
) -> StreamingHttpResponse:
    """``{"generated_at", "filters", "chain", "rows": [...]}``; ``chain`` is the verification
    of the whole hash chain at ``checked_at``."""
    return _download(_json_chunks(rows, filters=filters, chain=chain), "application/json", "json")


def _download(chunks: Iterator[str], content_type: str, extension: str) -> StreamingHttpResponse:
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response = StreamingHttpResponse(chunks, content_type=content_type)
    mark_as_download(response, f"steward-audit-trail-{stamp}.{extension}")
    response["Cache-Control"] = "no-store"
    return response


class _Line:
    """csv.writer writes into this and gets the line back, so lines can be streamed."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterable[TrailRow]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(EXPORT_FIELDS)
    for row in rows:
        values = trail_row_as_dict(row)
        values["details"] = json.dumps(values["details"], sort_keys=True, ensure_ascii=False)
        yield writer.writerow([_cell(values[name]) for name in EXPORT_FIELDS])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if isinstance(value, str) and text.startswith(FORMULA_PREFIXES) else text


def _json_chunks(
    rows: Iterable[TrailRow], *, filters: TrailFilters, chain: ChainStatus
) -> Iterator[str]:
    result = chain.result
    head = {
        "generated_at": timezone.now().isoformat(),
        "filters": filters.as_dict(),
        "chain": {
            "ok": result.ok,
            "checked": result.checked,
            "first_broken_sequence": result.first_broken_sequence,
            "first_broken_id": result.first_broken_id,
            "reason": result.reason,
            "head_hash": result.head_hash,
            "checked_at": chain.checked_at.isoformat(),
        },
    }
    opening = json.dumps(head, ensure_ascii=False)
    yield opening[:-1] + ', "rows": ['
    separator = ""
    for row in rows:
        yield separator + json.dumps(
            trail_row_as_dict(row), cls=DjangoJSONEncoder, ensure_ascii=False
        )
        separator = ", "
    yield "]}\n"
