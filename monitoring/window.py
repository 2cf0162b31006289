"""Reading a window of a deployment's prediction log as columns, the shape checks compute on.

On PostgreSQL one statement reads the window: one scan of the partitions the window overlaps
(the others are pruned at planning), every column from the same rows in the same order. The
numeric input columns come from the float64 vector ingestion stores beside each prediction's
JSON (``Prediction.numeric_inputs``): the database concatenates the window's vectors, sends them
as binary (32 MB for 200,000 rows x 20 numbers, not 64 MB of hex) and numpy reads them in place.
Turning JSON numbers into floats costs far more than the check itself (5 million of them for
200,000 rows x 25 features). Other columns are cut out of the JSON by the same statement.
Elsewhere (SQLite, the demo) the rows are read and split in Python."""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import psycopg
from django.db import DatabaseError, connection, transaction

from monitoring.models import Deployment, Prediction
from monitoring.schema import Column, numeric_layout, schema_columns


@dataclass
class WindowColumns:
    """Columns of the predictions logged in [start, end): numeric ones as float arrays with
    NaN for missing, categorical ones as object arrays with None for missing."""

    row_count: int
    inputs: dict[str, np.ndarray] = field(default_factory=dict)
    outputs: dict[str, np.ndarray] = field(default_factory=dict)


def _categorical(values: list, column: Column) -> np.ndarray:
    """An object array of ``values``; a labelled column's indices ("0", "1", ...) as labels."""
    if column.labels:
        labels = column.labels
        # Once per distinct value (a handful), not once per row. isdecimal, not isdigit: int()
        # refuses some digits ("²").
        label_of = {
            v: labels[int(v)]
            if isinstance(v, str) and v.isdecimal() and int(v) < len(labels)
            else v
            for v in set(values)
        }
        values = list(map(label_of.__getitem__, values))
    return np.array(values, dtype=object)


def window_columns(
    deployment: Deployment,
    *,
    start: datetime,
    end: datetime,
    inputs: list[Column],
    outputs: list[Column],
) -> WindowColumns:
    if connection.vendor == "postgresql":
        try:
            return _window_postgres(deployment, start, end, inputs, outputs)
        except DatabaseError as error:
            if not _over_value_limit(error):
                raise
    return _window_python(deployment, start, end, inputs, outputs)


# PostgreSQL's SQLSTATE when a value would pass its 1 GB limit: an aggregate of a window of many
# millions of rows. Such a window is read row by row instead, as on SQLite.
_PROGRAM_LIMIT_EXCEEDED = "54000"


def _over_value_limit(error: DatabaseError) -> bool:
    return getattr(error.__cause__, "sqlstate", None) == _PROGRAM_LIMIT_EXCEEDED


def _window_postgres(deployment, start, end, inputs, outputs) -> WindowColumns:
    layout = numeric_layout(schema_columns(deployment.model_version.input_schema))
    from_vectors = [c for c in inputs if c.is_numeric and c.name in layout]
    if from_vectors:
        window = _window_read(deployment, start, end, inputs, outputs, layout, from_vectors)
        if window is not None:
            return window
    return _window_read(deployment, start, end, inputs, outputs, layout, [])


def _window_read(deployment, start, end, inputs, outputs, layout, from_vectors):
    """All the columns in one statement, so one scan of the window's partitions and every
    column in the same row order. None when the numeric columns were to come from the vectors
    and some prediction of the window has none (logged before vectors were stored): the caller
    then reads them from the JSON."""
    wanted = [("inputs", c) for c in inputs if c not in from_vectors]
    wanted += [("outputs", c) for c in outputs]
    parts = _json_parts(wanted)
    if from_vectors:
        parts.append(_Part("numeric_inputs", [], "count(v{n})", []))
        parts.append(_Part("numeric_inputs", [], "string_agg(v{n}, ''::bytea)", []))
    row = _window_aggregate(deployment, start, end, parts)
    total, values = row[0], row[1 : 1 + len(wanted)]
    read = {"inputs": {}, "outputs": {}}
    if from_vectors:
        with_vector, blob = row[-2:]
        if with_vector != total:
            return None
        matrix = np.frombuffer(blob or b"", dtype="<f8").reshape(total, len(layout))
        for column in from_vectors:
            # A copy: a column of the matrix is strided, and a contiguous array of its own
            # lets the 32 MB result go once the columns are taken.
            read["inputs"][column.name] = matrix[:, layout.index(column.name)].copy()
    for (document, column), value in zip(wanted, values, strict=True):
        if column.is_numeric:
            array = np.fromstring(value, sep=",") if value else np.empty(0)  # noqa: NPY201
        else:
            strings = _split(value, total, deployment, start, end, document, column)
            array = _categorical(strings, column)
        read[document][column.name] = array
    return WindowColumns(
        row_count=total,
        inputs={c.name: read["inputs"][c.name] for c in inputs},
        outputs={c.name: read["outputs"][c.name] for c in outputs},
    )


@dataclass
class _Part:
    """One column of the window's statement: ``value`` is computed for each row (by the scan,
    in parallel workers when PostgreSQL uses them), ``aggregate`` over those values (``{n}``
    names the value), each with its bound parameters."""

    value: str
    value_params: list
    aggregate: str
    aggregate_params: list


def _json_parts(wanted: list[tuple[str, Column]]) -> list[_Part]:
    """Aggregates cutting each column out of the JSON: numbers as one comma-separated string
    (NaN where missing or not a number), other values as one string with SEPARATOR between
    values and MISSING for a missing one. One string per column, split here in C: far cheaper
    than a text[] of 200,000 elements."""
    parts = []
    for document, column in wanted:
        if column.is_numeric:
            parts.append(
                _Part(
                    f"CASE WHEN jsonb_typeof({document} -> %s) = 'number' "
                    f"THEN {document} ->> %s ELSE 'nan' END",
                    [column.name, column.name],
                    "coalesce(string_agg(v{n}, ','), '')",
                    [],
                )
            )
        else:
            parts.append(
                _Part(
                    f"coalesce({document} ->> %s, %s)",
                    [column.name, MISSING],
                    "coalesce(string_agg(v{n}, %s), '')",
                    [SEPARATOR],
                )
            )
    return parts


WINDOW = (
    "FROM monitoring_prediction "
    "WHERE deployment_id = %s AND predicted_at >= %s AND predicted_at < %s"
)
# What PostgreSQL charges for handing a row from a parallel worker to the statement's leader;
# its default (0.1) makes a plan that ships a whole window's rows to one aggregate dearer than
# scanning them alone, so the window's JSON would be cut out by one process. Its start-up cost
# (parallel_setup_cost) stays, so a small window is still read without workers.
PARALLEL_TUPLE_COST = "0.001"


def _window_aggregate(deployment, start, end, parts: list[_Part]) -> tuple:
    """One row of aggregates over the window. The rows' values are computed by a subquery, so
    that PostgreSQL may compute them in parallel workers (the JSON is most of the work), while
    one aggregate takes every column in the same row order. ``predicted_at`` is compared with
    the window's bounds as parameters of a statement planned for them, so PostgreSQL prunes
    every partition outside the window before it runs."""
    values = ", ".join(f"{part.value} AS v{n}" for n, part in enumerate(parts)) or "1 AS v"
    aggregates = ", ".join(
        ["count(*)", *(part.aggregate.format(n=n) for n, part in enumerate(parts))]
    )
    sql = f"SELECT {aggregates} FROM (SELECT {values} {WINDOW}) AS w"  # noqa: S608 - fixed names
    params = [p for part in parts for p in part.aggregate_params]
    params += [p for part in parts for p in part.value_params]
    with transaction.atomic(), _binary_cursor() as cursor, _parallel_scan(cursor):
        cursor.execute(sql, [*params, deployment.pk, start, end])
        return cursor.fetchone()


@contextmanager
def _parallel_scan(cursor):
    """PARALLEL_TUPLE_COST for the statements run inside, in a transaction; then the setting
    as it was (set for the transaction, it would otherwise last to the end of a caller's)."""
    cursor.execute("SELECT current_setting('parallel_tuple_cost')")
    previous = cursor.fetchone()[0]
    cursor.execute("SELECT set_config('parallel_tuple_cost', %s, true)", [PARALLEL_TUPLE_COST])
    yield
    cursor.execute("SELECT set_config('parallel_tuple_cost', %s, true)", [previous])


class _BinaryResultCursor(psycopg.Cursor):
    """Parameters bound by the server and results in PostgreSQL's binary format: the window's
    vectors arrive as their 32 MB of bytes instead of 64 MB of hex to decode. Never prepared:
    each window is planned with its own bounds (which is what prunes the partitions), and a
    pooler in transaction mode that cannot carry prepared statements is no problem."""

    def execute(self, query, params=None, **_):
        return super().execute(query, params, prepare=False, binary=True)


@contextmanager
def _binary_cursor():
    """A cursor of Django's connection (its transaction, its execute wrappers and query log)
    returning binary results; Django's own cursor may bind on the client, which cannot."""
    connection.ensure_connection()
    raw = _BinaryResultCursor(connection.connection)
    cursor = (
        connection.make_debug_cursor(raw)
        if connection.queries_logged
        else connection.make_cursor(raw)
    )
    try:
        yield cursor
    finally:
        cursor.close()


SEPARATOR, MISSING = "\x1f", "\x1e"  # ASCII unit and record separators


def _split(value: str, count: int, deployment, start, end, document: str, column: Column):
    values = value.split(SEPARATOR) if count else []
    if len(values) != count:
        # A value holds the separator: the column is read again as an array (by a statement
        # of its own, whose rows may come in another order than the other columns').
        with _binary_cursor() as cursor:
            cursor.execute(
                f"SELECT array_agg({document} ->> %s) {WINDOW}",  # noqa: S608 - fixed names
                [column.name, deployment.pk, start, end],
            )
            return cursor.fetchone()[0] or []
    if MISSING in value:
        return [None if v == MISSING else v for v in values]
    return values


def _window_python(deployment, start, end, inputs, outputs) -> WindowColumns:
    rows = list(
        Prediction.objects.filter(
            deployment=deployment, predicted_at__gte=start, predicted_at__lt=end
        ).values_list("inputs", "outputs")
    )
    window = WindowColumns(row_count=len(rows))
    for position, columns, target in ((0, inputs, window.inputs), (1, outputs, window.outputs)):
        for column in columns:
            values = [
                r[position].get(column.name) if isinstance(r[position], dict) else None
                for r in rows
            ]
            if column.is_numeric:
                target[column.name] = np.array(
                    [
                        v if isinstance(v, int | float) and not isinstance(v, bool) else np.nan
                        for v in values
                    ],
                    dtype=float,
                )
            else:
                target[column.name] = _categorical(
                    [None if v is None else str(v) for v in values], column
                )
    return window


@dataclass
class LabelledRows:
    """Predictions of the window that have ground truth (or protected attributes), in order."""

    outputs: list[dict]
    truths: list
    protected: list[dict]


def window_labelled(
    deployment: Deployment, *, start: datetime, end: datetime, labelled_only: bool
) -> LabelledRows:
    """The window's outputs, ground truths and protected attributes, row by row (the rows in
    no particular order: the checks use them together, never by position in time)."""
    if connection.vendor == "postgresql":
        try:
            return _labelled_postgres(deployment, start, end, labelled_only)
        except DatabaseError as error:
            if not _over_value_limit(error):
                raise
    qs = Prediction.objects.filter(
        deployment=deployment, predicted_at__gte=start, predicted_at__lt=end
    ).order_by()
    if labelled_only:
        qs = qs.filter(ground_truth__isnull=False)
    rows = list(qs.values_list("outputs", "ground_truth", "protected"))
    return LabelledRows(
        outputs=[r[0] for r in rows], truths=[r[1] for r in rows], protected=[r[2] for r in rows]
    )


def _labelled_postgres(deployment, start, end, labelled_only: bool) -> LabelledRows:
    """One statement, like the drift read: the three JSON columns of the window's rows, each as
    one JSON array in the same row order (one JSON document to parse per column, not three per
    row), the scan in parallel workers when the window is large."""
    labelled = " AND ground_truth IS NOT NULL" if labelled_only else ""
    sql = (
        "SELECT coalesce(json_agg(o), '[]')::text, coalesce(json_agg(t), '[]')::text, "  # noqa: S608
        "coalesce(json_agg(p), '[]')::text FROM (SELECT outputs AS o, ground_truth AS t, "
        f"protected AS p {WINDOW}{labelled}) AS w"
    )
    with transaction.atomic(), _binary_cursor() as cursor, _parallel_scan(cursor):
        cursor.execute(sql, [deployment.pk, start, end])
        outputs, truths, protected = (json.loads(text) for text in cursor.fetchone())
    return LabelledRows(outputs=outputs, truths=truths, protected=protected)
