"""The run and dataset version pages show where a run reported through OpenLineage came from
(job, producer, integration) and its column lineage; nothing of what the viewer may not see."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from integrations.openlineage.services import openlineage_event_ingest
from registry.models import DatasetVersion, Run
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db

RECORDED = Path(__file__).parent / "recorded"


@pytest.fixture
def spark_run(contributor):
    events = json.loads((RECORDED / "spark.json").read_text())
    for event in events:
        openlineage_event_ingest(actor=contributor, body=event)
    return Run.objects.get(uuid=events[0]["run"]["runId"])


def test_the_run_page_shows_job_producer_integration_and_column_lineage(
    spark_run, contributor, client
):
    client.force_login(contributor)
    page = client.get(f"/runs/{spark_run.uuid}/").content.decode()
    assert 'data-testid="openlineage-panel"' in page
    assert "spark-credit / loan_features.execute_insert_into_hadoop_fs_relation_command" in page
    assert "integration/spark" in page  # the producer
    assert 'data-testid="openlineage-integration">spark<' in page
    assert 'data-field="amount_band"' in page
    assert "s3://credit-lake/staging/loans · amount" in page
    assert "DIRECT/TRANSFORMATION" in page
    assert "2 events received" in page


def test_the_dataset_version_page_shows_its_openlineage_name_and_lineage(
    spark_run, contributor, client
):
    written = spark_run.output_datasets.get()
    client.force_login(contributor)
    page = client.get(
        f"/datasets/{written.dataset.name}/versions/{written.version}/"
    ).content.decode()
    assert "s3://credit-lake / features/loan_features" in page
    assert 'data-testid="column-lineage"' in page
    assert f"/runs/{spark_run.uuid}/" in page


def test_a_run_registered_through_the_api_has_no_openlineage_panel(contributor, team, client):
    run = RunFactory(team=team)
    client.force_login(contributor)
    assert (
        'data-testid="openlineage-panel"' not in client.get(f"/runs/{run.uuid}/").content.decode()
    )


def test_an_output_in_a_team_the_viewer_cannot_see_is_counted_not_shown(
    contributor, member, other_team, settings
):
    """Carol contributes to both teams; her run (Credit Risk's, by the mapping) writes an output
    in Marketing's mapped namespace. Mia, a member of Credit Risk only, sees the run but not
    that output: it is counted, never named, and its column lineage is not shown."""
    from accounts.choices import RoleName
    from accounts.services import role_assign, team_add_member

    team_add_member(team=other_team, user=contributor)
    role_assign(user=contributor, role=RoleName.CONTRIBUTOR, team=other_team)
    settings.STEWARD_OPENLINEAGE_NAMESPACE_TEAMS = {"etl": "credit-risk", "s3://mkt": "marketing"}
    lineage = {"_producer": "p", "_schemaURL": "s", "fields": {"secret_col": {"inputFields": []}}}
    out = {"namespace": "s3://mkt", "name": "t", "facets": {"columnLineage": lineage}}
    run_id = uuid.uuid4()
    openlineage_event_ingest(
        actor=contributor,
        body={
            "eventType": "COMPLETE",
            "eventTime": "2026-03-02T09:00:00Z",
            "producer": "https://example.org/p",
            "schemaURL": "https://example.org/s",
            "run": {"runId": str(run_id)},
            "job": {"namespace": "etl", "name": "cross"},
            "outputs": [out],
        },
    )
    assert DatasetVersion.objects.get().dataset.owner_team == other_team
    from django.test import Client

    viewer = Client()
    viewer.force_login(member)
    page = viewer.get(f"/runs/{run_id}/").content.decode()
    assert 'data-testid="openlineage-hidden-outputs"' in page
    assert "secret_col" not in page and "s3://mkt" not in page
