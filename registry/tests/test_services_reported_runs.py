"""Services for runs reported in stages (OpenLineage and other lineage emitters): a known run
id, inputs named event by event, a start time and kind learned late, and a version whose
producing run is named after its registration."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from core.errors import Conflict, InvalidInput, NotFound
from core.models import AuditEvent
from registry import services
from registry.models import LineageEdge
from registry.selectors import lineage_node_of
from tests.factories import DatasetFactory, DatasetVersionFactory, ModelVersionFactory, RunFactory

pytestmark = pytest.mark.django_db

T1 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
T2 = datetime(2026, 1, 5, 11, 0, tzinfo=UTC)


def test_it_keeps_a_run_id_given_by_the_caller_and_refuses_it_twice(contributor, team):
    run_id = uuid.uuid4()
    run = services.run_create(actor=contributor, kind="transformation", team=team, run_uuid=run_id)
    assert run.uuid == run_id
    with pytest.raises(Conflict):
        services.run_create(actor=contributor, kind="training", team=team, run_uuid=run_id)


def test_it_adds_inputs_once_with_their_edges_and_audit_event(contributor, team):
    run = RunFactory(team=team, actor=contributor)
    first = DatasetVersionFactory(dataset=DatasetFactory(owner_team=team))
    second = DatasetVersionFactory(dataset=DatasetFactory(owner_team=team))
    head = AuditEvent.objects.count()

    added = services.run_inputs_add(
        actor=contributor, run=run, inputs=[(first, "input"), (second, "input")]
    )
    again = services.run_inputs_add(actor=contributor, run=run, inputs=[(first, "input")])

    assert len(added) == 2 and again == []
    assert set(run.input_links.values_list("dataset_version_id", flat=True)) == {
        first.pk,
        second.pk,
    }
    sources = set(
        LineageEdge.objects.filter(target=lineage_node_of(run)).values_list(
            "source__key", flat=True
        )
    )
    assert sources == {first.natural_key, second.natural_key}
    appended = AuditEvent.objects.order_by("sequence")[head:].values_list("action", flat=True)
    assert list(appended) == ["run.inputs_add"]


def test_it_refuses_inputs_from_a_team_the_actor_cannot_see(contributor, team, other_team):
    run = RunFactory(team=team, actor=contributor)
    foreign = DatasetVersionFactory(dataset=DatasetFactory(owner_team=other_team))
    with pytest.raises(NotFound):
        services.run_inputs_add(actor=contributor, run=run, inputs=[(foreign, "input")])
    assert not run.input_links.exists()


def test_it_learns_a_start_time_and_kind_late_but_not_a_start_after_the_end(contributor, team):
    run = RunFactory(team=team, actor=contributor, kind="transformation", ended_at=T2)
    run = services.run_update(actor=contributor, run=run, started_at=T1, kind="training")
    assert (run.started_at, run.kind) == (T1, "training")
    with pytest.raises(InvalidInput):
        services.run_update(actor=contributor, run=run, started_at=datetime(2026, 2, 1, tzinfo=UTC))


def test_it_attaches_a_run_to_a_draft_version_once(contributor, team):
    run = RunFactory(team=team, actor=contributor)
    other_run = RunFactory(team=team, actor=contributor)
    version = ModelVersionFactory(registered_model__owner_team=team, run=None)

    services.model_version_run_attach(actor=contributor, version=version, run=run)
    services.model_version_run_attach(actor=contributor, version=version, run=run)  # no-op

    version.refresh_from_db()
    assert version.run == run
    assert LineageEdge.objects.filter(
        source=lineage_node_of(run), target=lineage_node_of(version), relation="produced"
    ).exists()
    assert AuditEvent.objects.filter(action="version.run_attach").count() == 1
    with pytest.raises(Conflict):
        services.model_version_run_attach(actor=contributor, version=version, run=other_run)
