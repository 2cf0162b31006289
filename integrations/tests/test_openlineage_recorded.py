"""Events of the shape the Airflow provider, the Spark listener and dbt-ol send (written from the
OpenLineage spec and the integrations' facets; nothing fetched), through the real client's HTTP
transport to a live Steward, as the integrations would send them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from integrations.models import OpenLineageRun
from integrations.tests.conftest import token_of
from registry.models import Run

RECORDED = Path(__file__).parent / "recorded"


def send_recording(client, name: str) -> list[dict]:
    events = json.loads((RECORDED / f"{name}.json").read_text())
    for event in events:
        response = client.transport.emit(event)
        assert response.status_code == 201, response.text
    return events


@pytest.fixture
def carol(contributor, openlineage_client):
    return openlineage_client(token_of(contributor))


def test_an_airflow_task_run_with_its_dag_run_parent(carol):
    events = send_recording(carol, "airflow")
    ol_run = OpenLineageRun.objects.get(reported_run_id=events[0]["run"]["runId"])
    assert (ol_run.integration, ol_run.state, ol_run.run.status) == (
        "airflow",
        "COMPLETE",
        "completed",
    )
    assert ol_run.parent_job == "airflow-credit/credit_daily"
    assert str(ol_run.parent_run_id) == "0195a3c1-2e00-7000-8000-000000000001"
    assert ol_run.job.facets["sql"]["query"].startswith("INSERT INTO lending.staging.loans")
    [written] = ol_run.run.output_datasets.all()
    # START named the output without a schema, COMPLETE with it and the row count
    assert written.schema == {
        "fields": [{"name": "id", "type": "integer"}, {"name": "amount", "type": "numeric"}]
    }
    assert written.row_count == 18211
    assert [
        link.dataset_version.dataset.openlineage.name for link in ol_run.run.input_links.all()
    ] == ["lending.raw.loans"]


def test_a_spark_application_with_versioned_output_and_column_lineage(carol):
    events = send_recording(carol, "spark")
    ol_run = OpenLineageRun.objects.get(reported_run_id=events[0]["run"]["runId"])
    assert ol_run.integration == "spark"
    assert ol_run.facets["spark_properties"]["properties"]["spark.master"] == "yarn"
    [written] = ol_run.run.output_datasets.all()
    assert written.openlineage.version_key == "7"
    assert (written.row_count, written.size_bytes) == (18211, 734003)
    assert written.uri == "s3://credit-lake/features/loan_features"
    lineage = ol_run.datasets.get(use="output").column_lineage["fields"]
    assert lineage["amount_band"]["inputFields"][0]["field"] == "amount"
    assert ol_run.run.input_links.count() == 1  # the COMPLETE's bare input is the START's


def test_a_dbt_model_with_its_code_location(carol):
    events = send_recording(carol, "dbt")
    run = Run.objects.get(uuid=events[0]["run"]["runId"])
    assert run.code_repository == "https://git.example.org/credit/dbt-credit.git"
    assert run.code_commit == "4c1f2a9d0e7b3c55a1f00b9e8d7c6b5a4f3e2d1c"
    assert run.code_path == "models/marts/loan_scores.sql"
    ol_run = run.openlineage
    assert (ol_run.integration, ol_run.parent_job) == ("dbt", "dbt-credit/dbt-run-credit")
    assert set(ol_run.datasets.get(use="output").column_lineage["fields"]) == {"id", "band"}


def test_the_three_recordings_share_the_warehouse_tables_of_one_team(carol, team):
    for name in ("airflow", "spark", "dbt"):
        send_recording(carol, name)
    assert Run.objects.filter(team=team, status="completed").count() == 3
