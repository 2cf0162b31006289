"""The OpenLineage translation: what one event, or a run's events in any order, become in the
registry, and what is refused whole."""

from __future__ import annotations

import uuid

import pytest

from core.errors import Forbidden, InvalidInput
from core.models import AuditEvent
from integrations.models import (
    OpenLineageDataset,
    OpenLineageDatasetVersion,
    OpenLineageEvent,
    OpenLineageRun,
    OpenLineageRunDataset,
)
from integrations.openlineage.services import openlineage_event_ingest
from integrations.tests.builders import at, dataset, dataset_event, facet, model_output, run_event
from registry.models import Dataset, DatasetVersion, LineageEdge, Run
from registry.selectors import lineage_node_of
from tests.factories import ModelVersionFactory

pytestmark = pytest.mark.django_db

LOANS = dataset(
    "postgres://warehouse:5432",
    "lending.public.loans",
    columns=(("id", "INT"), ("amount", "DECIMAL")),
)
SCORES = dataset("s3://features", "loan_scores", columns=(("id", "INT"), ("score", "DOUBLE")))


def ingest(user, event):
    return openlineage_event_ingest(actor=user, body=event)


def test_it_turns_a_start_complete_pair_into_one_run_with_its_lineage(contributor, team):
    run_id = uuid.uuid4()
    ingest(contributor, run_event("START", run_id, time=at(0), inputs=[LOANS]))
    ingest(contributor, run_event("COMPLETE", run_id, time=at(5), inputs=[LOANS], outputs=[SCORES]))

    run = Run.objects.get(uuid=run_id)
    assert (run.status, run.kind, run.team, run.name) == (
        "completed",
        "transformation",
        team,
        "daily_loans",
    )
    assert run.started_at.isoformat().startswith("2026-03-02T09:00")
    assert run.ended_at.isoformat().startswith("2026-03-02T09:05")
    [read] = run.input_links.all()
    assert read.dataset_version.dataset.openlineage.name == "lending.public.loans"
    assert read.dataset_version.schema == {
        "fields": [{"name": "id", "type": "INT"}, {"name": "amount", "type": "DECIMAL"}]
    }
    assert read.dataset_version.uri == "postgres://warehouse:5432/lending.public.loans"
    [written] = run.output_datasets.all()
    assert written.dataset.openlineage.name == "loan_scores"
    assert written.dataset.owner_team == team
    edges = set(LineageEdge.objects.values_list("source__key", "relation", "target__key"))
    assert (read.dataset_version.natural_key, "input", str(run_id)) in edges
    assert (str(run_id), "produced", written.natural_key) in edges
    ol_run = OpenLineageRun.objects.get(run=run)
    assert (ol_run.state, ol_run.integration, ol_run.job.name) == (
        "COMPLETE",
        "python",
        "daily_loans",
    )
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions.count("openlineage.event") == 2
    assert {"run.register", "dataset.register", "dataset_version.register", "run.update"} <= set(
        actions
    )


def test_it_takes_an_exact_repeat_as_a_no_op(contributor):
    event = run_event("START", uuid.uuid4(), inputs=[LOANS])
    assert ingest(contributor, event) is not None
    head = AuditEvent.objects.count()
    assert ingest(contributor, dict(reversed(list(event.items())))) is None
    assert AuditEvent.objects.count() == head
    assert OpenLineageEvent.objects.count() == 1


def test_it_lets_complete_win_over_a_late_start_and_keeps_the_start_time(contributor):
    run_id = uuid.uuid4()
    ingest(contributor, run_event("COMPLETE", run_id, time=at(10), outputs=[SCORES]))
    ingest(contributor, run_event("RUNNING", run_id, time=at(5)))
    ingest(contributor, run_event("START", run_id, time=at(1), inputs=[LOANS]))

    run = Run.objects.get(uuid=run_id)
    assert run.status == "completed"
    assert run.started_at.isoformat().startswith("2026-03-02T09:01")
    assert run.ended_at.isoformat().startswith("2026-03-02T09:10")
    assert run.input_links.count() == 1 and run.output_datasets.count() == 1


def test_it_refuses_a_start_after_the_end_and_writes_nothing(contributor):
    run_id = uuid.uuid4()
    ingest(contributor, run_event("COMPLETE", run_id, time=at(10)))
    head = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as refused:
        ingest(contributor, run_event("START", run_id, time=at(20), inputs=[LOANS]))
    assert "eventTime" in refused.value.field_errors
    assert AuditEvent.objects.count() == head
    assert not Dataset.objects.exists()


def test_it_keeps_a_failure_with_its_message_and_an_abort_as_failed(contributor):
    failed, aborted = uuid.uuid4(), uuid.uuid4()
    error = {
        "errorMessage": facet(
            "ErrorMessageRunFacet", message="Table not found", programmingLanguage="PYTHON"
        )
    }
    ingest(contributor, run_event("START", failed, time=at(0)))
    ingest(contributor, run_event("FAIL", failed, time=at(1), run_facets=error))
    ingest(contributor, run_event("ABORT", aborted, time=at(1), job=("etl", "other")))

    assert Run.objects.get(uuid=failed).status == "failed"
    assert OpenLineageRun.objects.get(run__uuid=failed).error_message == "Table not found"
    assert Run.objects.get(uuid=aborted).status == "failed"
    assert OpenLineageRun.objects.get(run__uuid=aborted).state == "ABORT"


def test_it_keys_versions_by_the_version_facet_and_derives_one_when_absent(contributor):
    v1 = dataset("s3://lake", "events", columns=(("id", "INT"),), version="snap-1")
    ingest(contributor, run_event("COMPLETE", uuid.uuid4(), outputs=[v1]))
    ingest(contributor, run_event("COMPLETE", uuid.uuid4(), job=("etl", "reader"), inputs=[v1]))
    ingest(
        contributor,
        run_event(
            "COMPLETE", uuid.uuid4(), job=("etl", "w2"), outputs=[dataset("s3://lake", "events")]
        ),
    )

    keys = list(
        OpenLineageDatasetVersion.objects.order_by("dataset_version__version").values_list(
            "version_key", "derived"
        )
    )
    assert keys[0] == ("snap-1", False)
    assert keys[1][0].startswith("run:") and keys[1][1]
    assert DatasetVersion.objects.count() == 2  # the reader read snap-1, it made no new version


def test_it_keeps_column_lineage_of_an_output(contributor):
    lineage = facet(
        "ColumnLineageDatasetFacet",
        fields={
            "score": {
                "inputFields": [
                    {
                        "namespace": LOANS["namespace"],
                        "name": LOANS["name"],
                        "field": "amount",
                        "transformations": [{"type": "INDIRECT", "subtype": "AGGREGATION"}],
                    }
                ]
            }
        },
    )
    scores = {**SCORES, "facets": {**SCORES["facets"], "columnLineage": lineage}}
    ingest(contributor, run_event("COMPLETE", uuid.uuid4(), inputs=[LOANS], outputs=[scores]))
    row = OpenLineageRunDataset.objects.get(use="output")
    assert row.column_lineage["fields"]["score"]["inputFields"][0]["field"] == "amount"


def test_a_dataset_event_records_a_version_once(contributor):
    described = dataset("s3://lake", "customers", columns=(("id", "INT"),))
    ingest(contributor, dataset_event(described, time=at(0)))
    ingest(contributor, dataset_event(described, time=at(1)))  # another event, same state
    assert DatasetVersion.objects.count() == 1
    assert OpenLineageEvent.objects.filter(kind="dataset").count() == 2


def test_the_model_facet_attaches_the_run_to_its_version_and_makes_it_training(contributor, team):
    version = ModelVersionFactory(registered_model__owner_team=team, run=None)
    run_id = uuid.uuid4()
    ingest(contributor, run_event("START", run_id, inputs=[LOANS]))
    ingest(
        contributor,
        run_event(
            "COMPLETE",
            run_id,
            time=at(3),
            outputs=[model_output(version.registered_model.name, version.version)],
        ),
    )
    version.refresh_from_db()
    assert version.run.uuid == run_id
    assert version.run.kind == "training"
    assert not OpenLineageDataset.objects.filter(namespace="s3://models").exists()


def test_an_unknown_model_version_is_refused_whole(contributor):
    run_id = uuid.uuid4()
    with pytest.raises(InvalidInput) as refused:
        ingest(
            contributor, run_event("COMPLETE", run_id, outputs=[SCORES, model_output("nope", 1)])
        )
    assert "not found" in refused.value.message
    assert not Run.objects.exists() and not Dataset.objects.exists()


def test_a_member_without_a_contributor_role_may_not_write(member):
    with pytest.raises(Forbidden):
        ingest(member, run_event("START", uuid.uuid4()))
    assert not Run.objects.exists()


def test_the_namespace_mapping_names_the_team(contributor, teammate, team, other_team, settings):
    from accounts.choices import RoleName
    from accounts.services import role_assign, team_add_member

    team_add_member(team=other_team, user=teammate)
    role_assign(user=teammate, role=RoleName.CONTRIBUTOR, team=other_team)
    with pytest.raises(InvalidInput) as refused:  # two teams, no mapping: which one?
        ingest(teammate, run_event("START", uuid.uuid4(), job=("airflow-marketing", "x")))
    assert "several teams" in refused.value.message
    settings.STEWARD_OPENLINEAGE_NAMESPACE_TEAMS = {
        "airflow-marketing": "marketing",
        "s3://mkt-*": "marketing",
    }
    run_id = uuid.uuid4()
    ingest(
        teammate,
        run_event(
            "COMPLETE",
            run_id,
            job=("airflow-marketing", "x"),
            outputs=[dataset("s3://mkt-lake", "t")],
        ),
    )
    assert Run.objects.get(uuid=run_id).team == other_team
    assert Dataset.objects.get().owner_team == other_team
    with pytest.raises(Forbidden):  # Carol is no contributor of Marketing
        ingest(contributor, run_event("START", uuid.uuid4(), job=("airflow-marketing", "y")))


def test_a_run_id_taken_by_another_team_gets_a_uuid_of_its_own(contributor, outsider):
    run_id = uuid.uuid4()
    ingest(contributor, run_event("START", run_id))
    ingest(outsider, run_event("COMPLETE", run_id, outputs=[SCORES]))
    carols = Run.objects.get(uuid=run_id)
    assert carols.status == "running" and not carols.output_datasets.exists()
    ottos = OpenLineageRun.objects.get(team__slug="marketing").run
    assert ottos.uuid != run_id and ottos.status == "completed"


def test_lineage_nodes_are_made_for_every_record(contributor):
    run_id = uuid.uuid4()
    ingest(contributor, run_event("COMPLETE", run_id, inputs=[LOANS], outputs=[SCORES]))
    run = Run.objects.get(uuid=run_id)
    assert lineage_node_of(run).owner_team == run.team
