"""Reading a window of the prediction log as columns (``monitoring.window``): the same values on
PostgreSQL (stored vectors and JSON cut in the database) and SQLite (rows split in Python); on
PostgreSQL one statement that scans only the partitions of the window."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import psycopg
import pytest
from django.db import DataError, connection, transaction
from django.utils import timezone

from monitoring import window as window_module
from monitoring.models import Deployment, Prediction
from monitoring.partitions import DEFAULT, partition_list, partitions_ensure, period_of
from monitoring.schema import Column, numeric_layout, numeric_vectors, schema_columns
from monitoring.tests.factories import DeploymentFactory
from monitoring.window import window_columns, window_labelled
from tests.services import require_postgres

pytestmark = pytest.mark.django_db

SCHEMA = {
    "columns": [
        {"name": "income", "type": "float64", "nullable": True},
        {"name": "age", "type": "int64", "nullable": True},
        {"name": "segment", "type": "string", "nullable": True},
        {"name": "tier", "type": "int64", "labels": ["bronze", "silver", "gold"]},
    ]
}
OUTPUTS = [Column(name="score", type="float64"), Column(name="label", type="string")]
NOW = timezone.now()


@pytest.fixture
def deployment() -> Deployment:
    return DeploymentFactory(model_version__input_schema=SCHEMA)


def log(deployment: Deployment, records: list[dict], moments=None, vectors: bool = True) -> None:
    """Rows as ingestion writes them, the vector of numeric inputs beside the JSON (test set-up:
    ingestion is tested on its own)."""
    layout = numeric_layout(schema_columns(SCHEMA))
    inputs = [r["inputs"] for r in records]
    stored = numeric_vectors(layout, inputs) if vectors else [None] * len(records)
    moments = moments or [NOW - timedelta(minutes=i + 1) for i in range(len(records))]
    Prediction.objects.bulk_create(
        Prediction(
            deployment=deployment,
            request_id=f"r-{i}-{moment.timestamp()}",
            predicted_at=moment,
            received_at=moment,
            inputs=record["inputs"],
            outputs=record["outputs"],
            numeric_inputs=vector,
        )
        for i, (record, moment, vector) in enumerate(zip(records, moments, stored, strict=True))
    )


def read(deployment: Deployment, start=None, end=None):
    return window_columns(
        deployment,
        start=start or NOW - timedelta(days=1),
        end=end or NOW,
        inputs=schema_columns(SCHEMA),
        outputs=OUTPUTS,
    )


MIXED = [
    # income: float, int, missing key, null, string, bool; segment: the same variety.
    {"inputs": {"income": 10.5, "age": 30, "segment": "a", "tier": 0}, "outputs": {"score": 0.1}},
    {"inputs": {"income": 7, "age": None, "segment": 3, "tier": 2}, "outputs": {"label": "x"}},
    {"inputs": {"age": 41, "tier": 1}, "outputs": {"score": 1, "label": "y"}},
    {"inputs": {"income": None, "age": 50, "segment": None, "tier": "2"}, "outputs": {}},
    {"inputs": {"income": "12", "age": 60, "segment": "", "tier": 5}, "outputs": {"score": "hi"}},
    {
        "inputs": {"income": True, "age": 70.5, "segment": "b", "tier": "²"},
        "outputs": {"score": None},
    },
]


def test_it_reads_numbers_missing_values_and_categories_as_they_were_logged(deployment):
    """Numbers (integers too) as floats and NaN for anything else; categories as strings with
    None for a missing value, a labelled column's indices as its labels (and any other value as
    it is, "²" too, which int() refuses). The same on both databases."""
    log(deployment, MIXED)
    window = read(deployment)
    assert window.row_count == 6
    assert list(window.inputs) == ["income", "age", "segment", "tier"]
    assert list(window.outputs) == ["score", "label"]
    assert window.inputs["income"].dtype == np.float64
    assert window.inputs["segment"].dtype == object
    nan = float("nan")
    by_age = sorted(
        zip(*(window.inputs[n] for n in window.inputs), *window.outputs.values(), strict=True),
        key=lambda row: (np.isnan(row[1]), row[1]),
    )
    expected = [
        (10.5, 30.0, "a", "bronze", 0.1, None),
        (nan, 41.0, None, "silver", 1.0, "y"),
        (nan, 50.0, None, "gold", nan, None),
        (nan, 60.0, "", "5", nan, None),
        (nan, 70.5, "b", "²", nan, None),
        (7.0, nan, "3", "gold", nan, "x"),
    ]
    for got, want in zip(by_age, expected, strict=True):
        assert [_plain(v) for v in got] == [_plain(v) for v in want], got


def _plain(value):
    """NaN as a string so that rows compare with ``==``."""
    return "nan" if isinstance(value, float) and np.isnan(value) else value


def test_it_reads_only_the_window(deployment):
    log(deployment, MIXED[:2], moments=[NOW - timedelta(days=2), NOW - timedelta(hours=1)])
    log(deployment, MIXED[2:3], moments=[NOW])  # the end of a window is outside it
    other = DeploymentFactory(model_version__input_schema=SCHEMA)
    log(other, MIXED[3:4], moments=[NOW - timedelta(hours=2)])
    window = read(deployment)
    assert window.row_count == 1
    assert list(window.inputs["income"]) == [7.0]
    empty = read(deployment, start=NOW - timedelta(hours=5), end=NOW - timedelta(hours=4))
    assert empty.row_count == 0
    assert all(len(v) == 0 for v in (*empty.inputs.values(), *empty.outputs.values()))


# --- PostgreSQL: one statement, the vectors, the partitions ------------------------------------


def statements_of_a_read(deployment, **window) -> list[tuple]:
    """The statements of a read that read the log (not its transaction and settings)."""
    captured = []

    def capture(execute, sql, params, many, context):
        if "monitoring_prediction" in sql:
            captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        result = read(deployment, **window)
    return captured, result


def aligned(n: int) -> list[dict]:
    return [
        {
            "inputs": {"income": float(i), "age": i % 7, "segment": f"s{i}", "tier": i % 3},
            "outputs": {"score": i / 10, "label": f"l{i}"},
        }
        for i in range(n)
    ]


@pytest.mark.postgres
def test_on_postgresql_one_statement_reads_every_column_of_the_same_rows(deployment):
    """One scan for the vectors and the JSON columns: the columns come back row by row in the
    same order (the read held two statements, whose scans could start at different places)."""
    require_postgres()
    log(deployment, aligned(500))
    statements, window = statements_of_a_read(deployment)
    assert len(statements) == 1
    assert "numeric_inputs" in statements[0][0]  # the numbers came from the vectors
    income, segment, score = (
        window.inputs["income"],
        window.inputs["segment"],
        window.outputs["score"],
    )
    assert sorted(income) == [float(i) for i in range(500)]
    assert list(segment) == [f"s{int(v)}" for v in income]
    assert np.allclose(score, income / 10)
    assert list(window.outputs["label"]) == [f"l{int(v)}" for v in income]


@pytest.mark.postgres
def test_on_postgresql_a_window_with_predictions_without_vectors_is_read_from_the_json(deployment):
    """Predictions logged before vectors were stored: the numbers come from their JSON, the
    same values the vectors hold."""
    require_postgres()
    records = aligned(200)
    log(deployment, records[:150])
    log(deployment, records[150:], vectors=False, moments=[NOW - timedelta(hours=2)] * 50)
    statements, window = statements_of_a_read(deployment)
    assert len(statements) == 2  # the vectors were short, then the JSON
    assert window.row_count == 200
    assert sorted(window.inputs["income"]) == [float(i) for i in range(200)]
    assert list(window.inputs["segment"]) == [f"s{int(v)}" for v in window.inputs["income"]]
    assert sorted(window.inputs["tier"]) == sorted(
        ["bronze", "silver", "gold"][i % 3] for i in range(200)
    )


@pytest.mark.postgres
def test_on_postgresql_a_read_scans_only_the_partitions_of_its_window(deployment):
    """The statement the read runs, as it runs it, plans a scan of the partitions its window
    overlaps and of no other (not the default partition either)."""
    require_postgres()
    this_period = period_of(NOW)[0]
    last_period = period_of(this_period - timedelta(seconds=1))[0]
    two_back = period_of(last_period - timedelta(seconds=1))[0]
    partitions_ensure(since=two_back)
    moments = [two_back, last_period, NOW - timedelta(seconds=1)]
    log(deployment, aligned(3), moments=moments)
    windows = {
        "within a period": (last_period, this_period),
        "across a period's end": (last_period, NOW),
    }
    for label, (start, end) in windows.items():
        statements, window = statements_of_a_read(deployment, start=start, end=end)
        plan = "\n".join(_explain(*statement) for statement in statements)
        touched = {p.name for p in partition_list() if f" {p.name} " in plan}
        wanted = {
            p.name for p in partition_list() if not p.is_default and p.start < end and start < p.end
        }
        assert touched == wanted, (label, plan)
        assert DEFAULT not in plan, label
        assert window.row_count == (1 if label == "within a period" else 2)


def _explain(sql: str, params) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(line for (line,) in cursor.fetchall())


@pytest.mark.postgres
def test_on_postgresql_the_read_leaves_the_planner_settings_as_it_found_them(deployment):
    """The read lowers parallel_tuple_cost for its own statement (so a large window's JSON is
    cut out by parallel workers) and puts it back, inside a caller's transaction too."""
    require_postgres()
    log(deployment, aligned(20))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL parallel_tuple_cost = 0.2")
        statements, window = statements_of_a_read(deployment)
        cursor.execute("SHOW parallel_tuple_cost")
        assert cursor.fetchone()[0] == "0.2"
    assert window.row_count == 20


# --- labelled rows (performance and bias checks) -----------------------------------------------


def test_labelled_rows_are_the_logged_outputs_truths_and_protected_attributes(deployment):
    """Each row's outputs, ground truth and protected attributes together, JSON as it was
    logged (numbers, strings, nested values, JSON null and no value); labelled_only keeps the
    rows with a ground truth. The same on both databases."""
    log(deployment, MIXED[:4])
    truths = [1, "yes", None, {"score": 0.5}]
    protected = [{"sex": "f", "age_band": 3}, {"sex": None}, {"sex": "m"}, {}]
    for prediction, truth, attributes in zip(
        Prediction.objects.filter(deployment=deployment).order_by("-predicted_at"),
        truths,
        protected,
        strict=True,
    ):
        prediction.ground_truth = truth
        prediction.protected = attributes
        prediction.save(update_fields=["ground_truth", "protected"])
    start, end = NOW - timedelta(days=1), NOW
    every = window_labelled(deployment, start=start, end=end, labelled_only=False)
    rows = sorted(zip(every.outputs, every.truths, every.protected, strict=True), key=_canonical)
    expected = sorted(
        zip((r["outputs"] for r in MIXED[:4]), truths, protected, strict=True),
        key=_canonical,
    )
    assert rows == expected
    labelled = window_labelled(deployment, start=start, end=end, labelled_only=True)
    assert sorted(map(_canonical, labelled.truths)) == sorted(
        map(_canonical, [1, "yes", {"score": 0.5}])
    )
    empty = window_labelled(deployment, start=end, end=end + timedelta(hours=1), labelled_only=True)
    assert (empty.outputs, empty.truths, empty.protected) == ([], [], [])


def _canonical(value) -> str:
    """JSON with sorted keys: PostgreSQL's jsonb keeps its own key order."""
    return json.dumps(value, sort_keys=True)


def _over_the_limit(*args, **kwargs):
    """What PostgreSQL says when an aggregate would pass its 1 GB value limit."""
    raise DataError("out of memory") from psycopg.errors.ProgramLimitExceeded("out of memory")


@pytest.mark.postgres
def test_on_postgresql_a_window_too_large_for_one_value_is_read_row_by_row(deployment, monkeypatch):
    require_postgres()
    log(deployment, aligned(30))
    whole = read(deployment)
    labelled = window_labelled(
        deployment, start=NOW - timedelta(days=1), end=NOW, labelled_only=False
    )
    monkeypatch.setattr(window_module, "_window_postgres", _over_the_limit)
    monkeypatch.setattr(window_module, "_labelled_postgres", _over_the_limit)
    by_rows = read(deployment)
    assert by_rows.row_count == whole.row_count == 30
    assert sorted(by_rows.inputs["income"]) == sorted(whole.inputs["income"])
    assert sorted(by_rows.outputs["label"]) == sorted(whole.outputs["label"])
    again = window_labelled(deployment, start=NOW - timedelta(days=1), end=NOW, labelled_only=False)
    assert sorted(map(_canonical, again.outputs)) == sorted(map(_canonical, labelled.outputs))


@pytest.mark.postgres
def test_on_postgresql_other_database_errors_of_a_read_are_not_hidden(deployment, monkeypatch):
    require_postgres()

    def refused(*args, **kwargs):
        raise DataError("boom") from psycopg.errors.DataException("boom")

    monkeypatch.setattr(window_module, "_labelled_postgres", refused)
    with pytest.raises(DataError):
        window_labelled(deployment, start=NOW - timedelta(days=1), end=NOW, labelled_only=True)
