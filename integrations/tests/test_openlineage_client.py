"""The real openlineage-python client, through its HTTP transport, against a live Steward:
what a pipeline sees (201 with an empty body, 400 with reasons) and what Steward records."""

from __future__ import annotations

import gzip
import uuid

import attr
import pytest
import requests
from openlineage.client.event_v2 import (
    DatasetEvent,
    InputDataset,
    Job,
    JobEvent,
    OutputDataset,
    Run,
    RunEvent,
    RunState,
    StaticDataset,
)
from openlineage.client.facet_v2 import (
    OutputDatasetFacet,
    column_lineage_dataset,
    datasource_dataset,
    error_message_run,
    job_type_job,
    output_statistics_output_dataset,
    schema_dataset,
)
from openlineage.client.facet_v2 import dataset_version_dataset as version_facet

from core.models import AuditEvent
from integrations.models import OpenLineageEvent, OpenLineageJob, OpenLineageRun
from integrations.tests.builders import at, run_event
from integrations.tests.conftest import token_of
from registry.models import Dataset, DatasetVersion
from registry.models import Run as StewardRun
from tests.factories import ModelVersionFactory

NAMESPACE = "postgres://warehouse:5432"


@attr.define(kw_only=True)
class StewardModelVersionFacet(OutputDatasetFacet):
    """The custom output facet, as a pipeline would declare it with the client."""

    name: str
    version: int


def loans(version: str = "42") -> InputDataset:
    return InputDataset(
        namespace=NAMESPACE,
        name="lending.public.loans",
        facets={
            "schema": schema_dataset.SchemaDatasetFacet(
                fields=[
                    schema_dataset.SchemaDatasetFacetFields(name="id", type="INT"),
                    schema_dataset.SchemaDatasetFacetFields(name="amount", type="DECIMAL"),
                ]
            ),
            "dataSource": datasource_dataset.DatasourceDatasetFacet(
                name="warehouse", uri=NAMESPACE
            ),
            "version": version_facet.DatasetVersionDatasetFacet(datasetVersion=version),
        },
    )


def scores() -> OutputDataset:
    lineage = column_lineage_dataset.ColumnLineageDatasetFacet(
        fields={
            "score": column_lineage_dataset.Fields(
                inputFields=[
                    column_lineage_dataset.InputField(
                        namespace=NAMESPACE,
                        name="lending.public.loans",
                        field="amount",
                        transformations=[
                            column_lineage_dataset.Transformation(
                                type="INDIRECT", subtype="AGGREGATION"
                            )
                        ],
                    )
                ]
            )
        }
    )
    return OutputDataset(
        namespace="s3://features",
        name="loan_scores",
        facets={
            "schema": schema_dataset.SchemaDatasetFacet(
                fields=[schema_dataset.SchemaDatasetFacetFields(name="score", type="DOUBLE")]
            ),
            "columnLineage": lineage,
        },
        outputFacets={
            "outputStatistics": output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                rowCount=1200, size=48000
            )
        },
    )


def event(state, run_id, minutes, *, inputs=(), outputs=(), run_facets=None, job="score_loans"):
    return RunEvent(
        eventType=state,
        eventTime=at(minutes),
        run=Run(runId=str(run_id), facets=run_facets or {}),
        job=Job(
            namespace="airflow-credit",
            name=job,
            facets={
                "jobType": job_type_job.JobTypeJobFacet(
                    processingType="BATCH", integration="AIRFLOW", jobType="TASK"
                )
            },
        ),
        inputs=list(inputs),
        outputs=list(outputs),
    )


def chain_actions_after(head: int) -> set[str]:
    return set(AuditEvent.objects.order_by("sequence")[head:].values_list("action", flat=True))


@pytest.fixture
def carol(contributor, openlineage_client):
    return openlineage_client(token_of(contributor))


def test_a_start_complete_pair_is_one_run_with_its_datasets_versions_and_lineage(carol, team):
    run_id = uuid.uuid4()
    response = carol.transport.emit(event(RunState.START, run_id, 0, inputs=[loans()]))
    assert (response.status_code, response.content) == (201, b"")
    carol.emit(event(RunState.COMPLETE, run_id, 7, inputs=[loans()], outputs=[scores()]))

    run = StewardRun.objects.get(uuid=run_id)
    assert (run.status, run.team, run.name) == ("completed", team, "score_loans")
    [read] = [link.dataset_version for link in run.input_links.all()]
    assert read.schema["fields"][1] == {"name": "amount", "type": "DECIMAL"}
    assert read.uri == f"{NAMESPACE}/lending.public.loans"
    assert read.openlineage.version_key == "42"
    [written] = run.output_datasets.all()
    assert (written.row_count, written.size_bytes) == (1200, 48000)
    ol_run = OpenLineageRun.objects.get(run=run)
    assert (ol_run.integration, ol_run.state) == ("airflow", "COMPLETE")
    assert "client/python" in ol_run.producer
    assert ol_run.datasets.get(use="output").column_lineage["fields"]["score"]
    assert OpenLineageEvent.objects.filter(ol_run=ol_run).count() == 2


def test_a_repeated_and_an_out_of_order_event_change_nothing_twice(carol):
    run_id = uuid.uuid4()
    complete = event(RunState.COMPLETE, run_id, 9, inputs=[loans()], outputs=[scores()])
    carol.emit(complete)
    carol.emit(event(RunState.START, run_id, 1, inputs=[loans()]))  # late
    head = AuditEvent.objects.count()
    carol.emit(complete)  # resent

    run = StewardRun.objects.get(uuid=run_id)
    assert run.status == "completed"
    assert (run.started_at.minute, run.ended_at.minute) == (1, 9)
    assert run.input_links.count() == 1 and run.output_datasets.count() == 1
    assert AuditEvent.objects.count() == head
    assert DatasetVersion.objects.count() == 2


def test_a_failed_run_keeps_its_error(carol):
    run_id = uuid.uuid4()
    carol.emit(event(RunState.START, run_id, 0))
    error = error_message_run.ErrorMessageRunFacet(
        message="relation lending.public.loans does not exist", programmingLanguage="PYTHON"
    )
    carol.emit(event(RunState.FAIL, run_id, 2, run_facets={"errorMessage": error}))
    ol_run = OpenLineageRun.objects.get(run__uuid=run_id)
    assert (ol_run.run.status, ol_run.state) == ("failed", "FAIL")
    assert "does not exist" in ol_run.error_message


def test_a_gzip_body_is_taken_in(contributor, openlineage_client):
    client = openlineage_client(token_of(contributor), gzip=True)
    run_id = uuid.uuid4()
    response = client.transport.emit(event(RunState.COMPLETE, run_id, 3, outputs=[scores()]))
    assert response.request.headers["Content-Encoding"] == "gzip"
    assert response.status_code == 201
    assert StewardRun.objects.get(uuid=run_id).status == "completed"


def test_a_dataset_event_and_a_job_event(carol):
    carol.emit(
        DatasetEvent(
            eventTime=at(0),
            dataset=StaticDataset(namespace="s3://lake", name="customers", facets=loans().facets),
        )
    )
    carol.emit(
        JobEvent(
            eventTime=at(0),
            job=Job(namespace="dbt-credit", name="model.credit.scores"),
            inputs=[loans()],
            outputs=[scores()],
        )
    )
    described = Dataset.objects.get(openlineage__name="customers")
    assert described.versions.get().openlineage.version_key == "42"
    job = OpenLineageJob.objects.get(name="model.credit.scores")
    assert job.declared_outputs == [{"namespace": "s3://features", "name": "loan_scores"}]


def test_the_model_facet_links_the_version_the_training_job_produced(carol, team):
    version = ModelVersionFactory(registered_model__owner_team=team, run=None)
    run_id = uuid.uuid4()
    carol.emit(event(RunState.START, run_id, 0, inputs=[loans()], job="train_credit"))
    model = OutputDataset(
        namespace="s3://models",
        name="credit/model.pkl",
        outputFacets={
            "steward_modelVersion": StewardModelVersionFacet(
                name=version.registered_model.name, version=version.version
            )
        },
    )
    carol.emit(event(RunState.COMPLETE, run_id, 30, outputs=[model], job="train_credit"))
    version.refresh_from_db()
    assert (version.run.uuid, version.run.kind) == (run_id, "training")


@pytest.mark.parametrize(
    ("breakage", "field"),
    [
        (lambda e: e["run"].pop("runId"), "run.runId"),
        (lambda e: e.update(eventTime="yesterday at noon"), "eventTime"),
        (lambda e: e.update(eventType="FINISHED"), "eventType"),
    ],
    ids=["missing-runId", "bad-eventTime", "unknown-eventType"],
)
def test_an_invalid_event_is_refused_with_its_reason_and_nothing_written(carol, breakage, field):
    body = run_event("START", uuid.uuid4(), inputs=[{"namespace": "s3://lake", "name": "x"}])
    breakage(body)
    head = AuditEvent.objects.count()
    with pytest.raises(requests.HTTPError) as refused:
        carol.transport.emit(body)  # the transport sends a plain dict as it is
    answer = refused.value.response
    assert answer.status_code == 400
    assert field in answer.json()["errors"]
    assert field in answer.json()["message"]
    assert chain_actions_after(head) <= {"token.success"}  # the token's first use, no more
    assert not StewardRun.objects.exists() and not Dataset.objects.exists()


def test_a_read_token_and_no_token_are_refused(contributor, openlineage_client):
    reader = openlineage_client(token_of(contributor, scopes=["read"]))
    with pytest.raises(requests.HTTPError) as refused:
        reader.emit(event(RunState.START, uuid.uuid4(), 0))
    assert refused.value.response.status_code == 403
    assert "write" in refused.value.response.json()["message"]
    with pytest.raises(requests.HTTPError) as anonymous:
        openlineage_client("stw_not-a-token").emit(event(RunState.START, uuid.uuid4(), 0))
    assert anonymous.value.response.status_code == 401
    assert not StewardRun.objects.exists()


def test_a_token_of_another_team_writes_for_its_own_team_only(
    carol, outsider, openlineage_client, other_team
):
    run_id = uuid.uuid4()
    carol.emit(event(RunState.COMPLETE, run_id, 5, inputs=[loans()], outputs=[scores()]))
    otto = openlineage_client(token_of(outsider))
    otto.emit(event(RunState.COMPLETE, uuid.uuid4(), 5, inputs=[loans()], outputs=[scores()]))
    ottos = StewardRun.objects.get(team=other_team)
    read = ottos.input_links.get().dataset_version
    assert read.dataset.owner_team == other_team  # his own record of the same table
    assert Dataset.objects.filter(owner_team__slug="credit-risk").count() == 2
    assert StewardRun.objects.get(uuid=run_id).output_datasets.get().dataset.versions.count() == 1


def test_a_gzip_bomb_is_a_413_and_an_unknown_encoding_a_415(contributor, live_server, settings):
    secret = token_of(contributor)
    url = f"{live_server.url}/api/v1/lineage"
    bomb = gzip.compress(b" " * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1), compresslevel=9)
    assert len(bomb) < 100_000
    headers = {
        "Authorization": f"Bearer {secret}",
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
    }
    answer = requests.post(url, data=bomb, headers=headers, timeout=30)
    assert answer.status_code == 413, answer.text
    answer = requests.post(
        url, data=b"{}", headers={**headers, "Content-Encoding": "br"}, timeout=30
    )
    assert answer.status_code == 415, answer.text
    answer = requests.post(url, data=b"\x1f\x8bnot gzip", headers=headers, timeout=30)
    assert answer.status_code == 400, answer.text
    assert not StewardRun.objects.exists()
