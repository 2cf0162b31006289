"""A prediction batch checked a column at a time: the common case of ingestion, made cheap.

A serving gateway's batch is nearly always valid as a whole. Checked record by record
(``ingestion._record_parse``), each record costs a few dozen Python-level calls; checked here,
one field or schema column across the whole batch at a time, the batch costs a few C-level
passes (``map``, ``set``, ``all``) per column. Whatever these passes do not accept as a whole
(one bad record, a null in a nullable column, a time ``datetime.fromisoformat`` cannot read)
sends the batch back to the record-by-record path, which names each refused record's errors.

Every test here is at least as strict as its record-by-record twin, so this path never
accepts what that one would refuse: exact types (JSON gives exactly ``str``, ``int``, ``float``,
``bool``, ``list``, ``dict``; ``True`` is no integer), the same bounds, the same keys."""

from __future__ import annotations

import gc
import math
import operator
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from itertools import chain, repeat
from typing import Any

import numpy as np

from monitoring.schema import Column, _allowed_types

_NUMBER_TYPES = frozenset({int, float})
_LATENCY_TYPES = frozenset({int, float, type(None)})
_LABEL_TYPES = frozenset({int, str})
_CONTAINERS = frozenset({dict, list})


def batch_rows(
    records: list,
    keys: frozenset[str],
    max_request_id: int,
    schemas: tuple[list[Column] | None, list[Column] | None],
    latest: datetime,
) -> list[tuple] | None:
    """``(request_id, predicted_at, inputs, outputs, latency_ms, protected)`` of every record,
    in order, when every record of the batch is valid and names its prediction time; None when
    any is not (the caller then checks record by record). ``keys`` are the fields a record may
    have, ``schemas`` the input and output columns, ``latest`` the latest time accepted."""
    if not _all_of_type(records, dict) or not all(map(keys.issuperset, records)):
        return None
    request_ids = _field(records, "request_id")
    if not _request_ids_valid(request_ids, max_request_id):
        return None
    moments = _moments(_field(records, "predicted_at"), latest)
    if moments is None:
        return None
    inputs, outputs = _field(records, "inputs"), _field(records, "outputs")
    if not (values_valid(schemas[0], inputs) and values_valid(schemas[1], outputs)):
        return None
    latencies = _field(records, "latency_ms")
    protected = list(map(dict.get, records, repeat("protected"), repeat({})))
    if not (_latencies_valid(latencies) and _protected_valid(protected)):
        return None
    return list(zip(request_ids, moments, inputs, outputs, latencies, protected, strict=True))


def _field(records: list[dict], name: str) -> list:
    return list(map(dict.get, records, repeat(name)))


def _all_of_type(values, kind: type) -> bool:
    return all(map(operator.is_, map(type, values), repeat(kind)))


def _types(values) -> set[type]:
    return set(map(type, values))


def _request_ids_valid(request_ids: list, longest: int) -> bool:
    """Non-empty strings (not only blanks) of at most ``longest`` characters."""
    return (
        _all_of_type(request_ids, str)
        and max(map(len, request_ids)) <= longest
        and all(map(str.strip, request_ids))
    )


def _moments(values: list, latest: datetime) -> list[datetime] | None:
    """Each ISO 8601 time with its time zone, none after ``latest``; None when any is absent
    (to be stamped with the time of receipt) or not so."""
    if not _all_of_type(values, str):
        return None
    try:
        moments = list(map(datetime.fromisoformat, values))
    except ValueError:
        return None
    if None in map(datetime.utcoffset, moments) or max(moments) > latest:
        return None
    return moments


def _latencies_valid(latencies: list) -> bool:
    """Absent, or finite non-negative numbers."""
    if not _types(latencies) <= _LATENCY_TYPES:
        return False
    numbers = [value for value in latencies if value is not None]
    return not numbers or (all(map(math.isfinite, numbers)) and min(numbers) >= 0)


def _protected_valid(protected: list) -> bool:
    """Objects of plain values (no object or list among them)."""
    return _all_of_type(protected, dict) and not (
        _types(chain.from_iterable(map(dict.values, protected))) & _CONTAINERS
    )


def values_valid(columns: list[Column] | None, values: list) -> bool:
    """Whether every value is a JSON object holding exactly the schema's columns, each with a
    value the column takes (what ``RecordChecker.errors`` accepts without a second look)."""
    if not _all_of_type(values, dict):
        return False
    if columns is None:
        return True
    names = frozenset(column.name for column in columns)
    if not all(map(names.issuperset, values)) or _types_len(values) != {len(names)}:
        return False
    return all(
        _column_valid(column, list(map(operator.itemgetter(column.name), values)))
        for column in columns
    )


def _types_len(values: list) -> set[int]:
    return set(map(len, values))


def _column_valid(column: Column, values: list) -> bool:
    if column.width is not None:
        return (
            _all_of_type(values, list)
            and _types_len(values) == {column.width}
            and _types(chain.from_iterable(values)) <= _NUMBER_TYPES
        )
    if column.labels:
        labels, count = frozenset(column.labels), len(column.labels)
        return _types(values) <= _LABEL_TYPES and all(
            (0 <= value < count) if type(value) is int else value in labels for value in set(values)
        )
    allowed = _allowed_types(column)
    if allowed is None:  # a type Steward does not know: any value, but a value
        return all(map(operator.is_not, values, repeat(None)))
    return _types(values) <= allowed


def numeric_vectors_of_valid(layout: tuple[str, ...], inputs: list[dict]) -> list[bytes | None]:
    """``monitoring.schema.numeric_vectors`` for inputs that passed ``values_valid``: every
    numeric column is there and holds an int or a float, so the matrix is built in one go."""
    if not layout:
        return [None] * len(inputs)
    width = len(layout)
    # One flat pass of the values into the array (np.fromiter), not a list of tuples that
    # np.array would walk twice, for their shape and then their values.
    picked = map(operator.itemgetter(*layout), inputs)
    values = chain.from_iterable(picked) if width > 1 else picked
    raw = np.fromiter(values, dtype="<f8", count=width * len(inputs)).tobytes()
    step = 8 * width
    return [raw[start : start + step] for start in range(0, len(raw), step)]


def unique_rows(rows: list[tuple]) -> tuple[list[tuple], int]:
    """The rows with each request id's first only, and how many were repeats."""
    if len({row[0] for row in rows}) == len(rows):
        return rows, 0
    seen: set[Any] = set()
    kept = [row for row in rows if row[0] not in seen and not seen.add(row[0])]
    return kept, len(rows) - len(kept)


# The characters COPY's text format escapes; a value holding one goes through write_row.
_COPY_SPECIAL = ("\\", "\t", "\n", "\r")


def _copy_plain(texts: list[str]) -> bool:
    """Whether no text holds a character COPY's text format escapes (four C-level searches of
    the column joined, cheaper than one regular expression)."""
    joined = "".join(texts)
    return not any(map(joined.__contains__, _COPY_SPECIAL))


def copy_text(deployment_id: int, received_at: str, rows: list[tuple], dumps) -> str | None:
    """The rows (``request_id, predicted_at, inputs, outputs, latency_ms, protected, vector``)
    in COPY's text format for ``ingestion.COPY_SQL``'s columns, built a column at a time by
    C-level passes (``map``, ``str.join``) instead of a ``write_row`` call per row; ``dumps``
    makes a value's JSON bytes. None when any text value holds a backslash, tab, newline or
    carriage return, which this text would have to escape (the caller then writes row by row,
    escaping them): JSON from orjson holds no raw control character, so those are a request id
    with one, or a string value with a backslash or a quote escaped in it."""
    if not rows:
        return ""
    rids, moments, inputs, outputs, latencies, protected, vectors = map(
        list, zip(*rows, strict=True)
    )
    texts = [
        rids,
        *(list(map(bytes.decode, map(dumps, column))) for column in (inputs, outputs, protected)),
    ]
    if not all(map(_copy_plain, texts)):
        return None
    latency_texts = list(map(str, latencies))
    if None in latencies:
        latency_texts = [
            "\\N" if value is None else text
            for value, text in zip(latencies, latency_texts, strict=True)
        ]
    if None in vectors:
        vector_texts = ["\\N" if v is None else "\\\\x" + v.hex() for v in vectors]
    else:  # bytea as hex, its backslash escaped for COPY
        vector_texts = list(map("\\\\x".__add__, map(bytes.hex, vectors)))
    lines = map(
        "\t".join,
        zip(
            rids,
            map(str, moments),
            repeat(received_at),
            texts[1],
            texts[2],
            latency_texts,
            texts[3],
            vector_texts,
        ),
    )
    prefix = f"{int(deployment_id)}\t"
    return prefix + f"\n{prefix}".join(lines) + "\n"


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while a batch is checked and written: its tens of
    thousands of new tuples and strings set off collections that walk the whole parsed batch
    again and again (a fifth of the batch's Python time), and none of it makes a cycle. Whatever
    cycles other code makes meanwhile are collected once the collector runs again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
