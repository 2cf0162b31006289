"""Validation of logged records against a version's input and output schema.

A schema is what the registry keeps on a version: ``{"columns": [{"name", "type", "labels"?,
"shape"?, "nullable"?}, ...]}``. An empty schema accepts any JSON object. Checks return error
messages instead of raising, so that one bad record of a batch is reported and the others kept.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

import numpy as np

NUMERIC_TYPES = frozenset({"float", "float16", "float32", "float64", "double", "number", "real"})
INTEGER_TYPES = frozenset({"int", "int8", "int16", "int32", "int64", "integer", "long"})
STRING_TYPES = frozenset({"str", "string", "object", "category", "categorical", "text"})
BOOLEAN_TYPES = frozenset({"bool", "boolean"})


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = False
    labels: tuple = ()
    width: int | None = None  # a vector of this many numbers (``shape: [k]``)

    @property
    def is_numeric(self) -> bool:
        return self.width is None and self.type in NUMERIC_TYPES | INTEGER_TYPES and not self.labels

    @property
    def is_categorical(self) -> bool:
        return self.width is None and not self.is_numeric


def schema_columns(schema: dict | None) -> list[Column] | None:
    """The columns a schema declares, or None when it declares none (anything goes)."""
    if not isinstance(schema, dict) or not isinstance(schema.get("columns"), list):
        return None
    columns = []
    for raw in schema["columns"]:
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            continue
        shape = raw.get("shape")
        width = shape[0] if isinstance(shape, list) and len(shape) == 1 else None
        columns.append(
            Column(
                name=raw["name"],
                type=str(raw.get("type", "")).lower(),
                nullable=bool(raw.get("nullable", False)),
                labels=tuple(raw.get("labels") or ()),
                width=width if isinstance(width, int) else None,
            )
        )
    return columns or None


def _value_error(column: Column, value: Any) -> str | None:
    if value is None:
        return None if column.nullable else "is required (null given)"
    if column.width is not None:
        if not isinstance(value, list) or len(value) != column.width:
            return f"must be a list of {column.width} numbers"
        if not all(_is_number(v) for v in value):
            return "must hold numbers only"
        return None
    if column.labels:
        if value in column.labels or (_is_int(value) and 0 <= value < len(column.labels)):
            return None
        return f"must be one of {list(column.labels)} or its index"
    kind = column.type
    if kind in INTEGER_TYPES:
        return None if _is_int(value) else "must be an integer"
    if kind in NUMERIC_TYPES:
        return None if _is_number(value) else "must be a number"
    if kind in BOOLEAN_TYPES:
        return None if isinstance(value, bool) else "must be true or false"
    if kind in STRING_TYPES:
        return None if isinstance(value, str) else "must be a string"
    return None  # a type the schema names but Steward does not know: accept as declared


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _allowed_types(column: Column) -> frozenset[type] | None:
    """The Python types JSON gives for the common valid values of ``column``, when a type test
    is enough to accept them; None when a value must be looked at (labels, vectors)."""
    if column.width is not None or column.labels:
        return None
    if column.type in NUMERIC_TYPES:
        return frozenset({int, float})
    if column.type in INTEGER_TYPES:
        return frozenset({int})
    if column.type in STRING_TYPES:
        return frozenset({str})
    if column.type in BOOLEAN_TYPES:
        return frozenset({bool})
    return None


class RecordChecker:
    """``record_errors`` for one schema, built once per batch: the column set, one getter of
    every column's value and each column's accepted types, so that a valid record is accepted
    by a few C-level calls. Whatever the fast path does not accept goes to ``record_errors``
    for the precise message (or a rarer valid form, such as a label by index)."""

    def __init__(self, columns: list[Column] | None):
        self.columns = columns
        columns = columns or []
        self.names = frozenset(c.name for c in columns)
        typed = [(c.name, _allowed_types(c)) for c in columns]
        self.typed_sets = tuple(types for _, types in typed if types is not None)
        typed_names = [name for name, types in typed if types is not None]
        self.typed_get = _getter(typed_names)
        self.looked_at = [
            (c.name, _accepts(c))
            for c, (_, types) in zip(columns, typed, strict=True)
            if types is None
        ]

    def errors(self, values: Any) -> list[str]:
        if type(values) is not dict:
            return ["must be a JSON object"]
        if self.columns is None:
            return []
        if (
            values.keys() == self.names
            and all(map(operator.contains, self.typed_sets, map(type, self.typed_get(values))))
            and all(accepts(values[name]) for name, accepts in self.looked_at)
        ):
            return []
        return record_errors(self.columns, values)


_IS_NUMBER_TYPE = frozenset({int, float}).__contains__


def _accepts(column: Column):
    """A quick test of the common valid values of a label or vector column (a label by name or
    index, a list of the declared width of numbers); what it refuses is looked at precisely."""
    if column.width is not None:
        width = column.width

        def vector(value) -> bool:
            return (
                type(value) is list
                and len(value) == width
                and all(map(_IS_NUMBER_TYPE, map(type, value)))
            )

        return vector
    if column.labels:
        labels, count = frozenset(column.labels), len(column.labels)

        def label(value) -> bool:
            return (type(value) is int and 0 <= value < count) or (
                type(value) is str and value in labels
            )

        return label
    return lambda value: _value_error(column, value) is None


def _getter(names: list[str]):
    """A function returning the values of ``names`` from a dict as a tuple."""
    if not names:
        return lambda values: ()
    if len(names) == 1:
        name = names[0]
        return lambda values: (values[name],)
    return operator.itemgetter(*names)


def record_errors(columns: list[Column] | None, values: Any) -> list[str]:
    """What is wrong with ``values`` (a JSON object) under ``columns``; empty when nothing."""
    if not isinstance(values, dict):
        return ["must be a JSON object"]
    if columns is None:
        return []
    errors = []
    for column in columns:
        if column.name not in values:
            if not column.nullable:
                errors.append(f"'{column.name}' is missing")
            continue
        problem = _value_error(column, values[column.name])
        if problem:
            errors.append(f"'{column.name}' {problem}")
    known = {c.name for c in columns}
    extra = sorted(k for k in values if k not in known)
    if extra:
        errors.append(f"not in the schema: {', '.join(map(repr, extra[:5]))}")
    return errors


def numeric_layout(columns: list[Column] | None) -> tuple[str, ...]:
    """The names of the numeric (scalar) columns of a schema, in schema order: the layout of a
    prediction's ``numeric_inputs`` vector."""
    return tuple(c.name for c in columns or () if c.is_numeric)


def numeric_vectors(layout: tuple[str, ...], records: list[dict]) -> list[bytes | None]:
    """Each record's values of ``layout`` as little-endian float64 bytes (NaN where missing or
    not a number); None for every record when the layout is empty."""
    if not layout:
        return [None] * len(records)
    nan = float("nan")
    matrix = np.array(
        [
            [v if type(v) in (int, float) else nan for v in map(values.get, layout)]
            for values in records
        ],
        dtype="<f8",
    ).reshape(len(records), len(layout))
    return [row.tobytes() for row in matrix]
