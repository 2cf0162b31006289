"""Prediction logging from serving gateways, and ground truth that arrives later.

Both are the production evidence a model is judged by, so they are written by a serving
gateway's account (the ``log`` verb of the gateway role), never by the model's developers or
deployers (``monitoring.permissions.require_logger``).

A batch is validated record by record: a bad record is reported with its index and errors and
never costs the batch its good ones. Ingestion is idempotent by request id per deployment: a
record whose request id is already logged (or repeated within the batch) counts as a duplicate
and changes nothing. On PostgreSQL the good records are written with COPY."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import User
from core.errors import Conflict, InvalidInput
from monitoring.models import Deployment, Prediction, PredictionKey
from monitoring.partitions import is_partitioned
from monitoring.permissions import require_logger
from monitoring.schema import RecordChecker, numeric_layout, numeric_vectors, schema_columns
from monitoring.services.prediction_batch import (
    batch_rows,
    collector_paused,
    copy_text,
    numeric_vectors_of_valid,
    unique_rows,
)

MAX_BATCH = 10_000
_IS_CONTAINER = frozenset({dict, list}).__contains__
MAX_REQUEST_ID = 128
FUTURE_TOLERANCE = timedelta(minutes=5)
RECORD_KEYS = frozenset(
    {"request_id", "predicted_at", "inputs", "outputs", "latency_ms", "protected"}
)
FEEDBACK_KEYS = frozenset({"request_id", "ground_truth", "observed_at"})


@dataclass
class BatchResult:
    """What became of a batch: how many records were written, how many were already there,
    and each refused record's index, request id and errors."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": len(self.rejected),
            "errors": self.rejected,
        }


def _batch_list(records: Any, noun: str) -> list:
    if not isinstance(records, list):
        raise InvalidInput(
            f"Send the {noun} as a JSON list under 'records'.",
            field_errors={"records": ["Must be a list."]},
        )
    if not records:
        raise InvalidInput(f"The batch holds no {noun}.", field_errors={"records": ["Empty."]})
    if len(records) > MAX_BATCH:
        raise InvalidInput(
            f"A batch holds at most {MAX_BATCH} records; this one has {len(records)}.",
            field_errors={"records": [f"At most {MAX_BATCH}."]},
        )
    return records


def _request_id_error(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "request_id is required (a non-empty string)"
    if len(value) > MAX_REQUEST_ID:
        return f"request_id is longer than {MAX_REQUEST_ID} characters"
    return None


def _moment(value: Any, name: str, latest: datetime, errors: list[str]) -> datetime | None:
    """The moment ``value`` names, or None when it is absent or wrong (and then says why)."""
    if value is None:
        return None  # the caller stamps it with the time of receipt
    moment = None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)  # C speed; most gateways send this form
        except ValueError:
            moment = parse_datetime(value)
    if moment is None:
        errors.append(f"{name} must be an ISO 8601 date and time")
        return None
    if timezone.is_naive(moment):
        errors.append(f"{name} needs a time zone (e.g. 2026-01-31T12:00:00Z)")
        return None
    if moment > latest:
        errors.append(f"{name} is in the future")
        return None
    return moment


def _record_parse(
    raw: Any, inputs: RecordChecker, outputs: RecordChecker, now: datetime, latest: datetime
) -> tuple[tuple | None, list[str]]:
    """The row to write for one record, or the reasons it is refused. ``latest`` is the
    latest prediction time accepted (a little after ``now``, for clocks that run ahead)."""
    if not isinstance(raw, dict):
        return None, ["a record must be a JSON object"]
    errors = []
    if not raw.keys() <= RECORD_KEYS:
        unknown = sorted(set(raw) - RECORD_KEYS)
        errors.append(f"unknown fields: {', '.join(unknown[:5])}")
    problem = _request_id_error(raw.get("request_id"))
    if problem:
        errors.append(problem)
    moment = _moment(raw.get("predicted_at"), "predicted_at", latest, errors) or now
    problems = inputs.errors(raw.get("inputs"))
    if problems:
        errors += [f"inputs: {e}" for e in problems]
    problems = outputs.errors(raw.get("outputs"))
    if problems:
        errors += [f"outputs: {e}" for e in problems]
    latency = raw.get("latency_ms")
    if latency is not None and (
        type(latency) not in (int, float) or not math.isfinite(latency) or latency < 0
    ):
        errors.append("latency_ms must be a non-negative number")
    protected = raw.get("protected", {})
    if type(protected) is not dict or any(map(_IS_CONTAINER, map(type, protected.values()))):
        errors.append("protected must be an object of plain values")
    if errors:
        return None, errors
    row = (raw["request_id"], moment, raw["inputs"], raw["outputs"], latency, protected or {})
    return row, []


@transaction.atomic
def predictions_ingest(*, actor: User, deployment: Deployment, records: Any) -> BatchResult:
    """Log a batch of predictions of ``deployment``; see the module docstring."""
    require_logger(actor, deployment)
    deployment = Deployment.objects.select_related("model_version").get(pk=deployment.pk)
    if not deployment.is_active:
        raise Conflict(f"Deployment '{deployment.name}' is retired: it takes no predictions.")
    records = _batch_list(records, "predictions")
    version = deployment.model_version
    schemas = (schema_columns(version.input_schema), schema_columns(version.output_schema))
    layout = numeric_layout(schemas[0])
    now = timezone.now()
    latest = now + FUTURE_TOLERANCE
    with collector_paused():
        # The common case, a wholly valid batch, checked a column at a time; any other record
        # by record, for each refused record's errors.
        rows = batch_rows(records, RECORD_KEYS, MAX_REQUEST_ID, schemas, latest)
        if rows is not None:
            result = BatchResult()
            rows, result.duplicates = unique_rows(rows)
            vectors = numeric_vectors_of_valid(layout, [row[2] for row in rows])
        else:
            result, rows = _records_checked(records, schemas, now, latest)
            vectors = numeric_vectors(layout, [row[2] for row in rows])
        if rows:
            rows = [(*row, vector) for row, vector in zip(rows, vectors, strict=True)]
            written = _rows_write(deployment, rows, now)
            result.accepted = written
            result.duplicates += len(rows) - written
    return result


def _records_checked(
    records: list, schemas: tuple, now: datetime, latest: datetime
) -> tuple[BatchResult, list[tuple]]:
    """Each record checked on its own: the rows of the valid ones (a request id's first only),
    and the result so far: the repeats within the batch and each refused record's errors."""
    inputs, outputs = RecordChecker(schemas[0]), RecordChecker(schemas[1])
    result, rows, seen = BatchResult(), [], set()
    for index, raw in enumerate(records):
        row, errors = _record_parse(raw, inputs, outputs, now, latest)
        if errors:
            request_id = raw.get("request_id") if isinstance(raw, dict) else None
            rid = request_id if isinstance(request_id, str) else None
            result.rejected.append({"index": index, "request_id": rid, "errors": errors})
        elif row[0] in seen:
            result.duplicates += 1
        else:
            seen.add(row[0])
            rows.append(row)
    return result, rows


def _existing_request_ids(deployment: Deployment, request_ids: list[str]) -> set[str]:
    # On the partitioned log the keys say which ids are taken: they also hold the ids of a
    # dropped partition's rows until monitoring.remove_dropped_prediction_keys removes them.
    taken = PredictionKey if is_partitioned() else Prediction
    existing: set[str] = set()
    for start in range(0, len(request_ids), 5000):
        chunk = request_ids[start : start + 5000]
        existing.update(
            taken.objects.filter(deployment=deployment, request_id__in=chunk).values_list(
                "request_id", flat=True
            )
        )
    return existing


def _rows_write(deployment: Deployment, rows: list[tuple], now: datetime) -> int:
    if connection.vendor == "postgresql":
        return _rows_copy(deployment, rows, now)
    existing = _existing_request_ids(deployment, [r[0] for r in rows])
    fresh = [r for r in rows if r[0] not in existing]
    if not fresh:
        return 0
    before = Prediction.objects.filter(deployment=deployment).count()
    Prediction.objects.bulk_create(
        [
            Prediction(
                deployment=deployment,
                request_id=rid,
                predicted_at=moment,
                received_at=now,
                inputs=inputs,
                outputs=outputs,
                latency_ms=latency,
                protected=protected,
                numeric_inputs=vector,
            )
            for rid, moment, inputs, outputs, latency, protected, vector in fresh
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    return Prediction.objects.filter(deployment=deployment).count() - before


COPY_ATTEMPTS = 3


def _rows_copy(deployment: Deployment, rows: list[tuple], now: datetime) -> int:
    """COPY the batch whole (the common case: all request ids new). When the request-id keys
    say some were logged before (a retried batch), or meanwhile by a concurrent batch with the
    same ids (its keys commit first, then ours fail), leave those out and COPY the rest. The
    partitioned log has no unique constraint of its own (its keys table has), so ON CONFLICT
    cannot skip them: a batch that keeps colliding is refused whole, to be retried."""
    pending = rows
    for _ in range(COPY_ATTEMPTS):
        try:
            with transaction.atomic():
                _copy(deployment, pending, now)
            return len(pending)
        except UNIQUE_VIOLATIONS:
            existing = _existing_request_ids(deployment, [r[0] for r in rows])
            pending = [r for r in rows if r[0] not in existing]
            if not pending:
                return 0
    raise Conflict(
        "Another batch with some of the same request ids is being logged right now; "
        "nothing of this batch was logged. Send it again."
    )


try:  # COPY runs on psycopg's own cursor, whose errors Django does not translate
    from psycopg.errors import UniqueViolation

    UNIQUE_VIOLATIONS: tuple[type[Exception], ...] = (IntegrityError, UniqueViolation)
except ImportError:  # pragma: no cover - psycopg is a dependency; SQLite never COPYs
    UNIQUE_VIOLATIONS = (IntegrityError,)

COPY_SQL = (
    "COPY monitoring_prediction (deployment_id, request_id, predicted_at, received_at, inputs,"
    " outputs, latency_ms, protected, numeric_inputs) FROM STDIN"
)


def _plain(value: Any) -> Any:
    """A numpy scalar from a Python caller, as the plain value JSON keeps."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _copy(deployment: Deployment, rows: list[tuple], now: datetime) -> None:
    """COPY the rows. The times go as the text psycopg's own dumper would send for an aware
    datetime (``str()``: ISO 8601 with its offset), made here: psycopg's dumper costs several
    Python calls per value, a third of the batch's formatting, and the time of receipt is the
    same for every row, so it is formatted once."""

    # JSON as bytes (no Python frame per value), decoded to the text of the jsonb columns.
    dumps = functools.partial(orjson.dumps, default=_plain, option=orjson.OPT_SERIALIZE_NUMPY)
    deployment_id, received_at = deployment.pk, str(now)
    # The whole batch's COPY text made a column at a time when no value needs an escape (the
    # common case); else row by row through psycopg, which escapes.
    text = copy_text(deployment_id, received_at, rows, dumps)
    with connection.cursor() as cursor, cursor.cursor.copy(COPY_SQL) as copy:
        if text is not None:
            copy.write(text)
            return
        for rid, moment, inputs, outputs, latency, protected, vector in rows:
            copy.write_row(
                (
                    deployment_id,
                    rid,
                    str(moment),
                    received_at,
                    dumps(inputs).decode(),
                    dumps(outputs).decode(),
                    latency,
                    dumps(protected).decode(),
                    vector,
                )
            )


@dataclass
class FeedbackResult:
    updated: int = 0
    unchanged: int = 0
    unknown: list[str] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "updated": self.updated,
            "unchanged": self.unchanged,
            "unknown_request_ids": self.unknown,
            "rejected": len(self.rejected),
            "errors": self.rejected,
        }


def _feedback_parse(raw: Any, now: datetime) -> tuple[tuple | None, list[str]]:
    if not isinstance(raw, dict):
        return None, ["a record must be a JSON object"]
    errors = []
    unknown = sorted(set(raw) - FEEDBACK_KEYS)
    if unknown:
        errors.append(f"unknown fields: {', '.join(unknown[:5])}")
    problem = _request_id_error(raw.get("request_id"))
    if problem:
        errors.append(problem)
    if "ground_truth" not in raw or raw["ground_truth"] is None:
        errors.append("ground_truth is required")
    elif isinstance(raw["ground_truth"], dict | list):
        errors.append("ground_truth must be a plain value (the true label or number)")
    moment = _moment(raw.get("observed_at"), "observed_at", now + FUTURE_TOLERANCE, errors) or now
    if errors:
        return None, errors
    return (raw["request_id"], raw["ground_truth"], moment), []


@transaction.atomic
def predictions_feedback(*, actor: User, deployment: Deployment, records: Any) -> FeedbackResult:
    """Join ground truth to logged predictions of ``deployment`` by request id. Recorded truth
    is evidence: sending the same value again changes nothing, a different one is refused."""
    require_logger(actor, deployment)
    records = _batch_list(records, "ground truth records")
    now = timezone.now()
    result, parsed = FeedbackResult(), {}
    for index, raw in enumerate(records):
        row, errors = _feedback_parse(raw, now)
        if errors:
            rid = raw.get("request_id") if isinstance(raw, dict) else None
            result.rejected.append(
                {
                    "index": index,
                    "request_id": rid if isinstance(rid, str) else None,
                    "errors": errors,
                }
            )
        else:
            parsed[row[0]] = (index, row)
    logged = {
        p.request_id: p
        for p in Prediction.objects.select_for_update()
        .filter(deployment=deployment, request_id__in=list(parsed))
        .only("id", "request_id", "ground_truth")
    }
    changed = []
    for rid, (index, (_, truth, moment)) in parsed.items():
        prediction = logged.get(rid)
        if prediction is None:
            result.unknown.append(rid)
        elif prediction.ground_truth is None:
            prediction.ground_truth, prediction.ground_truth_at = truth, moment
            changed.append(prediction)
        elif prediction.ground_truth == truth:
            result.unchanged += 1
        else:
            result.rejected.append(
                {
                    "index": index,
                    "request_id": rid,
                    "errors": ["a different ground truth is already recorded for it"],
                }
            )
    Prediction.objects.bulk_update(changed, ["ground_truth", "ground_truth_at"], batch_size=1000)
    result.updated = len(changed)
    return result
