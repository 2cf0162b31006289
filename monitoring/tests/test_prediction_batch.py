"""The column-at-a-time check of a prediction batch never accepts what the record-by-record
check refuses, and when it accepts, it yields the same rows and the same vectors."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from monitoring.schema import numeric_layout, numeric_vectors, schema_columns
from monitoring.services.ingestion import (
    FUTURE_TOLERANCE,
    MAX_REQUEST_ID,
    RECORD_KEYS,
    _records_checked,
)
from monitoring.services.prediction_batch import (
    batch_rows,
    numeric_vectors_of_valid,
    unique_rows,
)

INPUTS = schema_columns(
    {
        "columns": [
            {"name": "income", "type": "float64"},
            {"name": "age", "type": "int64"},
            {"name": "segment", "type": "string"},
            {"name": "vip", "type": "bool"},
            {"name": "joined", "type": "datetime"},  # a type Steward does not know
            {"name": "note", "type": "string", "nullable": True},
        ]
    }
)
OUTPUTS = schema_columns(
    {
        "columns": [
            {"name": "label", "type": "int64", "labels": ["stays", "churns"]},
            {"name": "probabilities", "type": "float64", "shape": [2]},
        ]
    }
)
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
LATEST = NOW + FUTURE_TOLERANCE


def _record(index: int) -> dict:
    return {
        "request_id": f"req-{index}",
        "predicted_at": (NOW - timedelta(minutes=index)).isoformat(),
        "inputs": {
            "income": 52_000.5 + index,
            "age": 30 + index,
            "segment": "retail",
            "vip": index % 2 == 0,
            "joined": "2020-01-01",
            "note": "n",
        },
        "outputs": {"label": "stays", "probabilities": [0.75, 0.25]},
        "latency_ms": 12.5,
        "protected": {"sex": "female", "age_band": "30-59"},
    }


def _set(path: tuple, value):
    def change(record: dict) -> dict:
        target = record
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return record

    return change


def _drop(path: tuple):
    def change(record: dict) -> dict:
        target = record
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
        return record

    return change


CHANGES = {
    "no request id": _drop(("request_id",)),
    "empty request id": _set(("request_id",), ""),
    "blank request id": _set(("request_id",), "   "),
    "long request id": _set(("request_id",), "x" * (MAX_REQUEST_ID + 1)),
    "numeric request id": _set(("request_id",), 5),
    "future time": _set(("predicted_at",), (NOW + timedelta(hours=1)).isoformat()),
    "naive time": _set(("predicted_at",), "2026-01-31T12:00:00"),
    "unreadable time": _set(("predicted_at",), "yesterday"),
    "numeric time": _set(("predicted_at",), 20260131),
    "no time": _drop(("predicted_at",)),
    "Z time": _set(("predicted_at",), "2026-01-31T12:00:00Z"),
    "text for a number": _set(("inputs", "income"), "lots"),
    "integer for a float": _set(("inputs", "income"), 7),
    "true for a float": _set(("inputs", "income"), True),
    "float for an integer": _set(("inputs", "age"), 30.5),
    "true for an integer": _set(("inputs", "age"), True),
    "null for a number": _set(("inputs", "age"), None),
    "number for a string": _set(("inputs", "segment"), 3),
    "number for a boolean": _set(("inputs", "vip"), 1),
    "null of an unknown type": _set(("inputs", "joined"), None),
    "number of an unknown type": _set(("inputs", "joined"), 2020),
    "null where nullable": _set(("inputs", "note"), None),
    "nullable column left out": _drop(("inputs", "note")),
    "column missing": _drop(("inputs", "age")),
    "column extra": _set(("inputs", "shoe_size"), 42),
    "inputs not an object": _set(("inputs",), [1, 2]),
    "label by index": _set(("outputs", "label"), 1),
    "label index out of range": _set(("outputs", "label"), 2),
    "negative label index": _set(("outputs", "label"), -1),
    "true as a label": _set(("outputs", "label"), True),
    "float as a label": _set(("outputs", "label"), 1.0),
    "unknown label": _set(("outputs", "label"), "maybe"),
    "short vector": _set(("outputs", "probabilities"), [1.0]),
    "vector of text": _set(("outputs", "probabilities"), ["a", "b"]),
    "vector with true": _set(("outputs", "probabilities"), [True, 0.5]),
    "vector not a list": _set(("outputs", "probabilities"), "0.5,0.5"),
    "negative latency": _set(("latency_ms",), -1),
    "infinite latency": _set(("latency_ms",), float("inf")),
    "text latency": _set(("latency_ms",), "fast"),
    "true latency": _set(("latency_ms",), True),
    "no latency": _drop(("latency_ms",)),
    "integer latency": _set(("latency_ms",), 12),
    "nested protected": _set(("protected",), {"a": [1]}),
    "null protected": _set(("protected",), None),
    "text protected": _set(("protected",), "x"),
    "no protected": _drop(("protected",)),
    "unknown field": _set(("surprise",), 1),
}


def _both(records: list):
    fast = batch_rows(
        copy.deepcopy(records), RECORD_KEYS, MAX_REQUEST_ID, (INPUTS, OUTPUTS), LATEST
    )
    result, rows = _records_checked(copy.deepcopy(records), (INPUTS, OUTPUTS), NOW, LATEST)
    return fast, result, rows


def test_it_takes_a_valid_batch_whole():
    records = [_record(index) for index in range(20)]
    fast, result, rows = _both(records)
    assert fast is not None
    assert not result.rejected
    assert fast == rows


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
@pytest.mark.parametrize("position", [0, 7])
def test_it_accepts_nothing_the_record_check_refuses(change, position):
    records = [_record(index) for index in range(8)]
    records[position] = CHANGES[change](records[position])
    fast, result, rows = _both(records)
    if result.rejected:
        assert fast is None
    elif fast is not None:
        assert fast == rows


def test_it_leaves_a_batch_that_is_not_a_list_of_objects_to_the_record_check():
    records = [_record(0), "not an object", None]
    fast, result, _ = _both(records)
    assert fast is None
    assert [r["index"] for r in result.rejected] == [1, 2]


def test_its_vectors_are_the_record_path_vectors():
    records = [_record(index) for index in range(50)]
    records[3]["inputs"]["income"] = 7  # an integer is a number too
    layout = numeric_layout(INPUTS)
    inputs = [record["inputs"] for record in records]
    assert numeric_vectors_of_valid(layout, inputs) == numeric_vectors(layout, inputs)
    assert numeric_vectors_of_valid(("age",), inputs) == numeric_vectors(("age",), inputs)
    assert numeric_vectors_of_valid((), inputs) == [None] * 50


def test_it_keeps_the_first_of_repeated_request_ids():
    rows = [("a", 1), ("b", 2), ("a", 3), ("c", 4), ("b", 5)]
    assert unique_rows(rows) == ([("a", 1), ("b", 2), ("c", 4)], 2)
    assert unique_rows(rows[:2]) == (rows[:2], 0)


TAKEN_WHOLE = (
    "Z time",
    "integer for a float",
    "number of an unknown type",
    "label by index",
    "no latency",
    "integer latency",
    "no protected",
)


@pytest.mark.parametrize("change", TAKEN_WHOLE)
def test_it_takes_the_common_valid_forms_whole(change):
    records = [_record(index) for index in range(8)]
    records[3] = CHANGES[change](records[3])
    fast, result, rows = _both(records)
    assert not result.rejected
    assert fast is not None
    assert fast == rows
