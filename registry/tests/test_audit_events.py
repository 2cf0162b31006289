"""Every registration in the registry appends its event to the audit chain, in the same
transaction (issue #12: "registration of models, versions, datasets, runs and artifacts; run
metric edits"), and a refused one appends none."""

from __future__ import annotations

import hashlib

import pytest
from rest_framework.test import APIClient

from core.models import AuditEvent
from registry.models import Artifact
from tests.factories import (
    DatasetFactory,
    DatasetVersionFactory,
    RegisteredModelFactory,
    RunFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(contributor):
    client = APIClient()
    client.force_authenticate(contributor)
    return client


def appended(since: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(sequence__gt=since).order_by("sequence"))


def head() -> int:
    last = AuditEvent.objects.order_by("-sequence").first()
    return last.sequence if last else 0


def test_registering_a_model_appends_model_register(api):
    since = head()
    response = api.post(
        "/api/v1/models/",
        {"name": "churn", "owner_team": "credit-risk", "risk_tier": "high", "tags": ["pii"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    [event] = appended(since)
    assert (event.action, event.actor_username, event.scope_model) == (
        "model.register",
        "carol",
        "churn",
    )
    assert event.data == {
        "name": "churn",
        "owner_team": "credit-risk",
        "risk_tier": "high",
        "description": "",
        "tags": ["pii"],
    }


def test_registering_a_version_appends_version_register(api, team):
    model = RegisteredModelFactory(name="churn", owner_team=team)
    dataset_version = DatasetVersionFactory(dataset=DatasetFactory(name="loans", owner_team=team))
    since = head()
    response = api.post(
        "/api/v1/models/churn/versions/",
        {
            "artifact_uri": "s3://m/1.pkl",
            "artifact_sha256": "a" * 64,
            "metrics": {"auc": 0.8},
            "datasets": [{"dataset": "loans", "version": 1, "role": "train"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    [event] = appended(since)
    assert (event.action, event.scope_model, event.scope_version) == (
        "version.register",
        model.name,
        "churn/1",
    )
    assert event.data["artifact_sha256"] == "a" * 64
    assert event.data["datasets"] == [
        {"dataset_version": dataset_version.natural_key, "role": "train"}
    ]
    assert event.data["metrics"] == {"auc": 0.8}


def test_registering_a_dataset_and_its_version_appends_their_events(api):
    since = head()
    created = api.post(
        "/api/v1/datasets/", {"name": "loans", "owner_team": "credit-risk"}, format="json"
    )
    version = api.post(
        "/api/v1/datasets/loans/versions/",
        {"uri": "s3://d/1.csv", "content_hash": "b" * 64, "row_count": 10},
        format="json",
    )
    assert created.status_code == version.status_code == 201
    dataset_event, version_event = appended(since)
    assert dataset_event.action == "dataset.register"
    assert dataset_event.data["owner_team"] == "credit-risk"
    assert version_event.action == "dataset_version.register"
    assert version_event.data["content_hash"] == "b" * 64
    assert (version_event.data["dataset"], version_event.data["version"]) == ("loans", 1)


def test_changing_a_dataset_appends_dataset_update(api, team):
    DatasetFactory(name="loans", owner_team=team)
    since = head()
    response = api.patch("/api/v1/datasets/loans/", {"description": "New"}, format="json")
    assert response.status_code == 200
    [event] = appended(since)
    assert event.action == "dataset.update"
    assert event.data == {"changes": {"description": {"from": "", "to": "New"}}}


def test_registering_a_run_and_editing_its_metrics_append_their_events(api, team):
    since = head()
    created = api.post(
        "/api/v1/runs/",
        {"kind": "training", "team": "credit-risk", "metrics": {"auc": 0.7}},
        format="json",
    )
    assert created.status_code == 201, created.content
    run = created.json()["uuid"]
    edited = api.patch(f"/api/v1/runs/{run}/", {"metrics": {"auc": 0.95}}, format="json")
    assert edited.status_code == 200
    register, update = appended(since)
    assert (register.action, register.data["uuid"], register.data["metrics"]) == (
        "run.register",
        run,
        {"auc": 0.7},
    )
    assert update.action == "run.update"
    assert update.data["changes"] == {"metrics": {"from": {"auc": 0.7}, "to": {"auc": 0.95}}}


def test_an_edit_that_changes_nothing_appends_nothing(api, team):
    run = RunFactory(team=team, metrics={"auc": 0.7})
    since = head()
    response = api.patch(f"/api/v1/runs/{run.uuid}/", {"metrics": {"auc": 0.7}}, format="json")
    assert response.status_code == 200
    assert appended(since) == []


def test_uploading_an_artifact_appends_artifact_upload_once(api):
    payload = b"weights"
    since = head()
    first = api.generic(
        "POST",
        "/api/v1/artifacts/?filename=m.bin",
        payload,
        content_type="application/octet-stream",
    )
    again = api.generic(
        "POST",
        "/api/v1/artifacts/?filename=m.bin",
        payload,
        content_type="application/octet-stream",
    )
    assert (first.status_code, again.status_code) == (201, 200)
    [event] = appended(since)
    assert event.action == "artifact.upload"
    assert event.data == {
        "sha256": hashlib.sha256(payload).hexdigest(),
        "size_bytes": len(payload),
        "original_name": "m.bin",
        "content_type": "application/octet-stream",
    }
    assert event.subject_id == str(Artifact.objects.get().pk)


def test_refused_registrations_append_nothing(outsider, team):
    RegisteredModelFactory(name="churn", owner_team=team)
    client = APIClient()
    client.force_authenticate(outsider)
    since = head()
    attempts = [
        client.post("/api/v1/models/", {"name": "x", "owner_team": "credit-risk"}, format="json"),
        client.post("/api/v1/datasets/", {"name": "x", "owner_team": "credit-risk"}, format="json"),
        client.post("/api/v1/runs/", {"kind": "training", "team": "credit-risk"}, format="json"),
        client.post("/api/v1/models/churn/versions/", {"artifact_sha256": "a" * 64}, format="json"),
    ]
    assert [r.status_code for r in attempts] == [403, 403, 403, 404]
    assert appended(since) == []
