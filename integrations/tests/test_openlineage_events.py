"""Reading an event before anything is written: every problem named with its path, and the
namespace -> team mapping refused at start-up when malformed."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.errors import InvalidInput
from integrations.openlineage.events import event_parse
from integrations.openlineage.namespace_teams import (
    namespace_team_slug,
    namespace_teams_clean,
    namespace_teams_from_env,
)
from integrations.tests.builders import dataset, dataset_event, run_event


def reasons(body) -> dict[str, list[str]]:
    with pytest.raises(InvalidInput) as refused:
        event_parse(body)
    return refused.value.field_errors


def test_it_names_every_problem_of_an_event_at_once():
    body = run_event("FINISHED", "not-a-uuid", inputs=[{"namespace": "s3://x"}, "loans"])
    body["eventTime"] = "2026-03-02 09:00"  # no time zone
    body["job"].pop("name")
    found = reasons(body)
    assert set(found) == {
        "eventType",
        "run.runId",
        "eventTime",
        "job.name",
        "inputs[0].name",
        "inputs[1]",
    }


def test_it_refuses_what_is_no_event_and_a_facet_of_the_wrong_shape():
    assert "event" in reasons([1, 2])
    assert "event" in reasons(
        {"eventTime": "2026-03-02T09:00:00Z", "producer": "p", "schemaURL": "s"}
    )
    bad = dataset(
        "s3://x", "t", facets={"schema": {"fields": "id,amount"}, "version": {"datasetVersion": ""}}
    )
    found = reasons(run_event("COMPLETE", uuid.uuid4(), outputs=[bad]))
    assert {"outputs[0].facets.schema.fields", "outputs[0].facets.version.datasetVersion"} <= set(
        found
    )


def test_it_checks_the_model_facet_and_keeps_it_to_outputs():
    output = {
        "namespace": "s3://m",
        "name": "m",
        "outputFacets": {"steward_modelVersion": {"name": "", "version": 0}},
    }
    found = reasons(run_event("COMPLETE", uuid.uuid4(), outputs=[output]))
    assert set(found) == {
        "outputs[0].outputFacets.steward_modelVersion.name",
        "outputs[0].outputFacets.steward_modelVersion.version",
    }
    misplaced = {"namespace": "s3://m", "name": "m", "inputFacets": {"steward_modelVersion": {}}}
    assert "inputs[0].inputFacets.steward_modelVersion" in reasons(
        run_event("START", uuid.uuid4(), inputs=[misplaced])
    )


def test_it_reads_the_three_kinds_and_a_run_event_without_an_event_type():
    assert event_parse(run_event(None, uuid.uuid4())).event_type == ""
    described = event_parse(dataset_event(dataset("s3://x", "t", version="3")))
    assert (described.kind, described.dataset.version, described.namespace) == (
        "dataset",
        "3",
        "s3://x",
    )
    job = run_event("START", uuid.uuid4())
    job.pop("run")
    job.pop("eventType")
    assert event_parse(job).kind == "job"


def test_a_repeat_hashes_the_same_whatever_its_key_order():
    event = run_event("START", uuid.uuid4())
    assert event_parse(event).sha256 == event_parse(dict(reversed(list(event.items())))).sha256


def test_the_mapping_prefers_an_exact_namespace_then_the_longest_prefix():
    mapping = {"s3://*": "a", "s3://credit-*": "b", "s3://credit-lake": "c"}
    assert namespace_team_slug(mapping, "s3://credit-lake") == "c"
    assert namespace_team_slug(mapping, "s3://credit-other") == "b"
    assert namespace_team_slug(mapping, "s3://x") == "a"
    assert namespace_team_slug(mapping, "postgres://db") is None


@pytest.mark.parametrize(
    "value",
    [
        '["a"]',
        '{"ns": 3}',
        '{"ns": "not a slug!"}',
        '{"*": "a"}',
        '{"a*b": "a"}',
        '{"": "a"}',
        "{oops",
    ],
)
def test_a_malformed_mapping_stops_start_up(value, monkeypatch):
    monkeypatch.setenv("STEWARD_OPENLINEAGE_NAMESPACE_TEAMS", value)
    with pytest.raises(ImproperlyConfigured):
        namespace_teams_from_env("STEWARD_OPENLINEAGE_NAMESPACE_TEAMS")


def test_a_well_formed_mapping_is_read(monkeypatch):
    monkeypatch.setenv("STEWARD_OPENLINEAGE_NAMESPACE_TEAMS", '{"airflow-prod": "data-platform"}')
    assert namespace_teams_from_env("STEWARD_OPENLINEAGE_NAMESPACE_TEAMS") == {
        "airflow-prod": "data-platform"
    }
    assert namespace_teams_clean("X", {}) == {}


def test_an_event_naming_too_many_datasets_is_refused():
    many = [{"namespace": "s3://x", "name": f"t{i}"} for i in range(501)]
    assert "inputs" in reasons(run_event("START", uuid.uuid4(), inputs=many))
