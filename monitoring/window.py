"""Reading a window of a deployment's prediction log as columns, the shape checks compute on.

On PostgreSQL the numeric input columns come from the float64 vector ingestion stores beside
each prediction's JSON (``Prediction.numeric_inputs``): the database concatenates the window's
vectors and numpy reads them in place. Turning JSON numbers into floats costs far more than the
check itself (5 million of them for 200,000 rows x 25 features). Other columns are cut out of the
JSON in one statement.
Elsewhere (SQLite, the demo) the rows are read and split in Python."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.db import connection

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
    if column.labels:
        labels = column.labels
        values = [
            labels[int(v)] if isinstance(v, str) and v.isdigit() and int(v) < len(labels) else v
            for v in values
        ]
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
        return _window_postgres(deployment, start, end, inputs, outputs)
    return _window_python(deployment, start, end, inputs, outputs)


def _window_postgres(deployment, start, end, inputs, outputs) -> WindowColumns:
    layout = numeric_layout(schema_columns(deployment.model_version.input_schema))
    from_vectors = [c for c in inputs if c.is_numeric and c.name in layout]
    window = _vectors_read(deployment, start, end, layout, from_vectors) if from_vectors else None
    if window is not None:
        inputs = [c for c in inputs if c not in from_vectors]
        if not inputs and not outputs:
            return window
    rest = _json_read(deployment, start, end, inputs, outputs)
    if window is None:
        return rest
    window.inputs.update(rest.inputs)
    window.outputs.update(rest.outputs)
    return window


def _vectors_read(deployment, start, end, layout, columns) -> WindowColumns | None:
    """The numeric input columns from the stored float64 vectors: one concatenation in the
    database, one ``frombuffer`` here. None when some prediction of the window has no vector
    (logged without a schema), so that the caller reads the JSON instead."""
    sql = (
        "SELECT count(*), count(numeric_inputs), string_agg(numeric_inputs, ''::bytea) "
        "FROM monitoring_prediction "
        "WHERE deployment_id = %s AND predicted_at >= %s AND predicted_at < %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [deployment.pk, start, end])
        total, with_vector, blob = cursor.fetchone()
    if total != with_vector:
        return None
    matrix = np.frombuffer(blob or b"", dtype="<f8").reshape(total, len(layout))
    window = WindowColumns(row_count=total)
    for column in columns:
        window.inputs[column.name] = matrix[:, layout.index(column.name)].astype(float)
    return window


def _json_read(deployment, start, end, inputs, outputs) -> WindowColumns:
    parts, params = ["count(*)"], []
    wanted = [("inputs", c) for c in inputs] + [("outputs", c) for c in outputs]
    for document, column in wanted:
        if column.is_numeric:
            parts.append(
                f"coalesce(string_agg(CASE WHEN jsonb_typeof({document} -> %s) = 'number' "
                f"THEN {document} ->> %s ELSE 'nan' END, ','), '')"
            )
            params += [column.name, column.name]
        else:
            # One string per column, split here in C: far cheaper than a text[] of 200,000
            # elements. A value holding the separator makes the split miscount; then the
            # column is read again as an array.
            parts.append(f"coalesce(string_agg(coalesce({document} ->> %s, %s), %s), '')")
            params += [column.name, MISSING, SEPARATOR]
    sql = (
        f"SELECT {', '.join(parts)} FROM monitoring_prediction "  # noqa: S608 - fixed names
        "WHERE deployment_id = %s AND predicted_at >= %s AND predicted_at < %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, deployment.pk, start, end])
        row = cursor.fetchone()
    window = WindowColumns(row_count=row[0])
    for (document, column), value in zip(wanted, row[1:], strict=True):
        if column.is_numeric:
            array = np.fromstring(value, sep=",") if value else np.empty(0)  # noqa: NPY201
        else:
            array = _categorical(
                _split(value, window.row_count, deployment, start, end, document, column), column
            )
        getattr(window, document)[column.name] = array
    return window


SEPARATOR, MISSING = "\x1f", "\x1e"  # ASCII unit and record separators


def _split(value: str, count: int, deployment, start, end, document: str, column: Column):
    values = value.split(SEPARATOR) if count else []
    if len(values) != count:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT array_agg({document} ->> %s) FROM monitoring_prediction "  # noqa: S608
                "WHERE deployment_id = %s AND predicted_at >= %s AND predicted_at < %s",
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
    qs = Prediction.objects.filter(
        deployment=deployment, predicted_at__gte=start, predicted_at__lt=end
    )
    if labelled_only:
        qs = qs.filter(ground_truth__isnull=False)
    rows = list(qs.values_list("outputs", "ground_truth", "protected"))
    return LabelledRows(
        outputs=[r[0] for r in rows], truths=[r[1] for r in rows], protected=[r[2] for r in rows]
    )
