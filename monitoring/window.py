"""Reading a window of a deployment's prediction log as columns, the shape checks compute on.

On PostgreSQL the columns are cut out of the JSON in the database — one statement, numeric
columns aggregated to one comma-separated string each and parsed by numpy in C — because
turning 200,000 JSON documents into Python objects row by row would cost more than the check.
Elsewhere (SQLite, the demo) the rows are read and split in Python."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.db import connection

from monitoring.models import Deployment, Prediction
from monitoring.schema import Column


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
            parts.append(f"array_agg({document} ->> %s)")
            params.append(column.name)
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
            array = _categorical(value or [], column)
        getattr(window, document)[column.name] = array
    return window


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
