"""The column-at-a-time check of a prediction batch never accepts what the record-by-record
check refuses, and when it accepts, it yields the same rows and the same vectors."""

from __future__ import annotations

import copy
import functools
import gc
from datetime import UTC, datetime, timedelta

import numpy as np
import orjson
import pytest
from django.db import connection, transaction

from monitoring.schema import numeric_layout, numeric_vectors, schema_columns
from monitoring.services import ingestion
from monitoring.services.ingestion import (
    FUTURE_TOLERANCE,
    MAX_REQUEST_ID,
    RECORD_KEYS,
    _records_checked,
)
from monitoring.services.prediction_batch import (
    batch_rows,
    collector_paused,
    copy_text,
    numeric_vectors_of_valid,
    unique_rows,
)
from monitoring.tests.factories import DeploymentFactory
from tests.services import require_postgres

NUMPY = orjson.OPT_SERIALIZE_NUMPY

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


# --- the batch's COPY text --------------------------------------------------------------------


def _copy_rows() -> list[tuple]:
    """Rows as ingestion COPYs them, with what the COPY text must get right: no latency, no
    vector, non-ASCII text, numpy scalars from a Python caller, tiny and whole numbers."""
    moment = datetime(2026, 1, 31, 6, 30, 0, 123456, tzinfo=UTC)
    return [
        ("r-0", moment, {"x": 1.5, "s": "ü ñ 東京"}, {"label": 1}, 12.5, {"sex": "f"}, b"\x00\x01"),
        (
            "r-1",
            moment,
            {"x": np.float64(2.25), "n": np.int64(3)},
            {"p": [0.1, 0.9]},
            None,
            {},
            None,
        ),
        ("r-2", moment + timedelta(seconds=1), {"x": None}, {"label": 0}, 1e-05, {"a": 1}, b""),
        ("r-3", moment, {}, {}, 7, {}, np.array([1.0, -2.5]).tobytes()),
    ]


def test_its_copy_text_leaves_values_with_an_escape_to_the_row_by_row_copy():
    dumps = functools.partial(orjson.dumps, default=ingestion._plain, option=NUMPY)
    assert copy_text(7, "now", _copy_rows(), dumps).count("\n") == 4
    for index, value in ((0, "r\t0"), (2, {"s": "back\\slash"}), (2, {"s": 'a "quote"'})):
        rows = _copy_rows()
        rows[1] = (*rows[1][:index], value, *rows[1][index + 1 :])
        assert copy_text(7, "now", rows, dumps) is None


@pytest.mark.postgres
@pytest.mark.django_db
def test_its_copy_text_stores_what_the_row_by_row_copy_stores(monkeypatch):
    require_postgres()
    fast, by_row = DeploymentFactory(), DeploymentFactory()
    now = datetime.now(UTC)
    with transaction.atomic():
        ingestion._copy(fast, _copy_rows(), now)
    monkeypatch.setattr(ingestion, "copy_text", lambda *args: None)
    with transaction.atomic():
        ingestion._copy(by_row, _copy_rows(), now)

    def stored(deployment) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT request_id, predicted_at, received_at, inputs::text, outputs::text, "
                "latency_ms, protected::text, numeric_inputs FROM monitoring_prediction "
                "WHERE deployment_id = %s ORDER BY request_id",
                [deployment.pk],
            )
            return [(*row[:7], None if row[7] is None else bytes(row[7])) for row in cursor]

    assert len(stored(fast)) == 4
    assert stored(fast) == stored(by_row)
    assert stored(fast)[1][5] is None and stored(fast)[1][7] is None


def test_the_collector_is_paused_for_a_batch_and_left_as_it_was():
    assert gc.isenabled()
    with pytest.raises(ValueError), collector_paused():
        assert not gc.isenabled()
        raise ValueError("a batch that fails still gives the collector back")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # not switched on by the batch when it was off before
    finally:
        gc.enable()
