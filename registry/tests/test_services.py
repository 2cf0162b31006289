"""The registry's services: what a registration records, and what it refuses."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry

from core.errors import Conflict, InvalidInput
from registry import services
from registry.choices import DatasetRole, RiskTier
from registry.models import LineageEdge, ModelVersion
from registry.selectors import lineage_node_of
from tests.factories import (
    DatasetFactory,
    DatasetVersionFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    RunFactory,
    fake_sha256,
)

pytestmark = pytest.mark.django_db


def edges_into(obj) -> set[tuple[str, str]]:
    node = lineage_node_of(obj)
    return {(e.source.key, e.relation) for e in LineageEdge.objects.filter(target=node)}


def test_it_registers_a_model_with_its_team_tier_and_tags(contributor, team):
    model = services.registered_model_create(
        actor=contributor,
        name="credit-scoring",
        owner_team=team,
        risk_tier=RiskTier.HIGH,
        tags=["Credit", "pii", "credit"],
    )
    assert model.owner_team == team
    assert model.risk_tier == "high"
    assert sorted(t.name for t in model.tags.all()) == ["credit", "pii"]
    assert model.created_by == contributor


def test_it_refuses_a_duplicate_or_malformed_model_name(contributor, team):
    RegisteredModelFactory(name="churn", owner_team=team)
    with pytest.raises(Conflict):
        services.registered_model_create(actor=contributor, name="churn", owner_team=team)
    with pytest.raises(InvalidInput) as excinfo:
        services.registered_model_create(actor=contributor, name="Bad Name!", owner_team=team)
    assert "name" in excinfo.value.field_errors


def test_it_numbers_versions_one_two_three_per_model(contributor, team):
    first_model = RegisteredModelFactory(owner_team=team)
    other_model = RegisteredModelFactory(owner_team=team)
    numbers = [ModelVersionFactory(registered_model=first_model).version for _ in range(3)]
    assert numbers == [1, 2, 3]
    assert ModelVersionFactory(registered_model=other_model).version == 1


def test_it_records_full_provenance_of_a_version(contributor, team):
    train = DatasetVersionFactory(dataset=DatasetFactory(owner_team=team))
    test = DatasetVersionFactory(dataset=train.dataset)
    run = RunFactory(
        team=team,
        inputs=[(train, DatasetRole.TRAIN), (test, DatasetRole.TEST)],
        params={"C": 1.0},
    )
    version = services.model_version_register(
        actor=contributor,
        registered_model=RegisteredModelFactory(owner_team=team),
        artifact_uri="s3://models/lr.pkl",
        artifact_sha256=fake_sha256("lr"),
        artifact_size=2048,
        framework="sklearn",
        input_schema={"age": "int"},
        output_schema={"score": "float"},
        params={"C": 1.0},
        metrics={"auc": 0.87, "accuracy": 0.9},
        run=run,
        code_repository="https://git.example.org/ml/credit",
        code_commit="a" * 40,
        code_path="train.py",
        python_version="3.11.7",
        packages={"scikit-learn": "1.5.2"},
        image_digest="sha256:" + "b" * 64,
    )
    version.refresh_from_db()
    assert version.status == "draft"
    assert version.registered_by == contributor
    assert version.metrics == {"auc": 0.87, "accuracy": 0.9}
    assert version.packages == {"scikit-learn": "1.5.2"}
    # With no datasets named, the version's datasets are what its run trained and tested on.
    assert {(link.dataset_version, link.role) for link in version.dataset_links.all()} == {
        (train, "train"),
        (test, "test"),
    }
    # The data reaches the version through the run; no duplicate shortcut edge.
    assert edges_into(version) == {(str(run.uuid), "produced")}
    assert edges_into(run) == {(train.natural_key, "train"), (test.natural_key, "test")}


def test_it_links_datasets_directly_when_there_is_no_run(contributor, team):
    holdout = DatasetVersionFactory()
    version = ModelVersionFactory(datasets=[(holdout, DatasetRole.TEST)])
    assert edges_into(version) == {(holdout.natural_key, "test")}


def test_it_refuses_bad_provenance_and_writes_nothing(contributor, team):
    model = RegisteredModelFactory(owner_team=team)
    bad_calls = [
        {"artifact_uri": "", "artifact_sha256": fake_sha256(1)},
        {"artifact_uri": "s3://x", "artifact_sha256": "not-a-hash"},
        {"artifact_uri": "s3://x", "artifact_sha256": fake_sha256(1), "metrics": {"auc": "high"}},
        {
            "artifact_uri": "s3://x",
            "artifact_sha256": fake_sha256(1),
            "metrics": {"auc": float("nan")},
        },
        {"artifact_uri": "s3://x", "artifact_sha256": fake_sha256(1), "params": ["a"]},
        {"artifact_uri": "s3://x", "artifact_sha256": fake_sha256(1), "image_digest": "latest"},
        {
            "artifact_uri": "s3://x",
            "artifact_sha256": fake_sha256(1),
            "datasets": [(DatasetVersionFactory(), "input")],
        },
    ]
    for kwargs in bad_calls:
        with pytest.raises(InvalidInput):
            services.model_version_register(actor=contributor, registered_model=model, **kwargs)
    assert not ModelVersion.objects.filter(registered_model=model).exists()


def test_it_records_where_a_dataset_version_came_from(contributor, team):
    raw = DatasetVersionFactory(dataset=DatasetFactory(name="loans", owner_team=team))
    cleaning = RunFactory(kind="transformation", team=team, inputs=[(raw, DatasetRole.INPUT)])
    cleaned = services.dataset_version_create(
        actor=contributor,
        dataset=raw.dataset,
        uri="s3://data/loans-clean.parquet",
        content_hash=fake_sha256("clean"),
        row_count=990,
        produced_by_run=cleaning,
        derived_from=[raw],
        description="Dropped rows with missing income.",
    )
    assert cleaned.version == 2
    assert list(cleaned.derived_from.all()) == [raw]
    assert cleaned.produced_by_run == cleaning
    # raw -> run -> cleaned; the derived_from fact is already a path through the run.
    assert edges_into(cleaned) == {(str(cleaning.uuid), "produced")}

    external = DatasetVersionFactory()
    merged = services.dataset_version_create(
        actor=contributor,
        dataset=raw.dataset,
        uri="s3://m",
        content_hash=fake_sha256("m"),
        derived_from=[cleaned, external],
    )
    assert edges_into(merged) == {
        (cleaned.natural_key, "derived_from"),
        (external.natural_key, "derived_from"),
    }


def test_a_retrained_version_is_derived_from_its_parent(contributor, team):
    parent = ModelVersionFactory()
    child = ModelVersionFactory(registered_model=parent.registered_model, derived_from=parent)
    assert child.version == 2
    assert edges_into(child) == {(parent.natural_key, "derived_from")}


def test_it_updates_a_run_but_not_its_inputs(contributor, team):
    run = RunFactory(team=team, status="running", metrics={"loss": 0.5})
    run = services.run_update(actor=contributor, run=run, status="completed", metrics={"auc": 0.8})
    assert run.status == "completed"
    assert run.metrics == {"loss": 0.5, "auc": 0.8}


def test_every_registration_is_in_the_audit_log(contributor, team):
    from auditlog.context import set_actor

    with set_actor(contributor):
        version = ModelVersionFactory(actor=contributor)
    entry = LogEntry.objects.get_for_object(version).get()
    assert entry.action == LogEntry.Action.CREATE
    assert entry.actor == contributor
