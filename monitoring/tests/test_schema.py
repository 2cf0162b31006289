"""Records are checked against a version's schema; the fast checker of a batch answers exactly
what the precise one does."""

from __future__ import annotations

import pytest

from monitoring.schema import RecordChecker, record_errors, schema_columns

SCHEMA = {
    "columns": [
        {"name": "x", "type": "float64"},
        {"name": "n", "type": "int64"},
        {"name": "s", "type": "string"},
        {"name": "b", "type": "bool"},
        {"name": "label", "type": "int64", "labels": ["no", "yes"]},
        {"name": "p", "type": "float64", "shape": [2]},
        {"name": "opt", "type": "float64", "nullable": True},
    ]
}
GOOD = {"x": 1.5, "n": 2, "s": "a", "b": True, "label": 1, "p": [0.2, 0.8], "opt": None}

CASES = [
    GOOD,
    {**GOOD, "x": 3},
    {**GOOD, "label": "yes"},
    {k: v for k, v in GOOD.items() if k != "opt"},
    {**GOOD, "x": "1.5"},
    {**GOOD, "x": True},
    {**GOOD, "n": 2.0},
    {**GOOD, "n": False},
    {**GOOD, "s": 1},
    {**GOOD, "b": 1},
    {**GOOD, "label": 2},
    {**GOOD, "label": "maybe"},
    {**GOOD, "p": [0.2]},
    {**GOOD, "p": [0.2, "x"]},
    {**GOOD, "x": None},
    {**GOOD, "extra": 1},
    {k: v for k, v in GOOD.items() if k != "x"},
    [],
    "x",
    None,
]


@pytest.mark.parametrize("values", CASES)
def test_the_batch_checker_agrees_with_the_precise_one(values):
    columns = schema_columns(SCHEMA)
    assert RecordChecker(columns).errors(values) == record_errors(columns, values)


def test_it_says_what_is_wrong():
    columns = schema_columns(SCHEMA)
    errors = RecordChecker(columns).errors({**GOOD, "x": "1.5", "extra": 1, "n": None})
    assert errors == [
        "'x' must be a number",
        "'n' is required (null given)",
        "not in the schema: 'extra'",
    ]


def test_an_empty_schema_takes_any_object():
    assert RecordChecker(schema_columns({})).errors({"anything": [1, {"a": 2}]}) == []
    assert RecordChecker(schema_columns({})).errors([1]) == ["must be a JSON object"]
