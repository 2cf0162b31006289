"""Idempotency-Key on the create endpoints (core.idempotency): a retried create answers the first
answer instead of making a second row; another request under the same key, a duplicate still
in flight and a malformed key are refused; keys are per user and expire."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import token_create
from core.idempotency import idempotency_records_prune
from core.models import AuditEvent, IdempotencyRecord
from monitoring.models import Prediction
from monitoring.tests.factories import DeploymentFactory, ProductionVersionFactory
from monitoring.tests.test_monitoring_services import INPUT_SCHEMA, OUTPUT_SCHEMA, _records
from registry.models import Dataset, DatasetVersion, ModelVersion, RegisteredModel, Run
from tests.factories import RegisteredModelFactory, fake_sha256

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def post(client, path, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(path, json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def model(team):
    return RegisteredModelFactory(owner_team=team, name="credit-scoring")


CREATES = [
    ("/api/v1/models/", lambda team: {"name": "fraud", "owner_team": team.slug}, RegisteredModel),
    (
        "/api/v1/models/credit-scoring/versions/",
        lambda team: {"artifact_uri": "s3://m/model.pkl", "artifact_sha256": fake_sha256(1)},
        ModelVersion,
    ),
    ("/api/v1/datasets/", lambda team: {"name": "loans", "owner_team": team.slug}, Dataset),
    ("/api/v1/runs/", lambda team: {"kind": "training", "team": team.slug}, Run),
]


@pytest.mark.parametrize(("path", "body", "model_class"), CREATES)
def test_it_answers_a_repeated_key_with_the_first_answer_and_no_second_row(
    path, body, model_class, contributor, team, model
):
    client = client_for(contributor)
    first = post(client, path, body(team), key="key-1")
    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first
    count = model_class.objects.count()
    chain = AuditEvent.objects.count()

    again = post(client, path, body(team), key="key-1")

    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]
    assert model_class.objects.count() == count
    assert AuditEvent.objects.count() == chain  # a replay is no second write


def test_a_dataset_version_is_registered_once(contributor, team):
    client = client_for(contributor)
    assert (
        post(client, "/api/v1/datasets/", {"name": "loans", "owner_team": team.slug}).status_code
        == 201
    )
    body = {"uri": "s3://d/loans.csv", "content_hash": fake_sha256("loans"), "row_count": 3}
    first = post(client, "/api/v1/datasets/loans/versions/", body, key="dv")
    again = post(client, "/api/v1/datasets/loans/versions/", body, key="dv")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["version"] == first.json()["version"] == 1
    assert DatasetVersion.objects.count() == 1


def test_without_the_header_it_costs_no_query_and_creates_each_time(contributor, team):
    client = client_for(contributor)
    body = {"kind": "training", "team": team.slug}
    with CaptureQueriesContext(connection) as queries:
        assert post(client, "/api/v1/runs/", body).status_code == 201
    assert not [q for q in queries.captured_queries if "idempotency" in q["sql"].lower()]
    assert post(client, "/api/v1/runs/", body).status_code == 201
    assert Run.objects.count() == 2
    assert not IdempotencyRecord.objects.exists()


def test_the_same_key_with_another_body_is_refused_and_creates_nothing(contributor, team):
    client = client_for(contributor)
    assert (
        post(client, "/api/v1/runs/", {"kind": "training", "team": team.slug}, "k").status_code
        == 201
    )
    other = post(client, "/api/v1/runs/", {"kind": "evaluation", "team": team.slug}, "k")
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert "another request" in other.json()["message"]
    assert Run.objects.count() == 1


def test_the_same_key_on_another_endpoint_is_refused(contributor, team):
    client = client_for(contributor)
    body = {"name": "loans", "owner_team": team.slug}
    assert post(client, "/api/v1/datasets/", body, "k").status_code == 201
    refused = post(client, "/api/v1/models/", body, "k")
    assert refused.status_code == 422
    assert not RegisteredModel.objects.exists()


def test_a_duplicate_while_the_first_is_in_flight_gets_409(contributor, team):
    client = client_for(contributor)
    body = {"kind": "training", "team": team.slug}
    assert post(client, "/api/v1/runs/", body, "k").status_code == 201
    # As the row stands while the first request is still being served: claimed, no answer.
    IdempotencyRecord.objects.update(status_code=None, body=b"")

    response = post(client, "/api/v1/runs/", body, "k")

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_in_flight"
    assert response["Retry-After"] == "1"
    assert Run.objects.count() == 1


def test_an_abandoned_claim_is_taken_over_after_the_in_flight_timeout(contributor, team):
    client = client_for(contributor)
    body = {"kind": "training", "team": team.slug}
    assert post(client, "/api/v1/runs/", body, "k").status_code == 201
    # As if the process serving the first request had died before storing its answer.
    IdempotencyRecord.objects.update(
        status_code=None, created_at=timezone.now() - timedelta(minutes=11)
    )
    assert post(client, "/api/v1/runs/", body, "k").status_code == 201
    assert Run.objects.count() == 2
    assert IdempotencyRecord.objects.get().status_code == 201


def test_an_error_is_not_stored_so_the_corrected_retry_goes_through(contributor, team):
    client = client_for(contributor)
    bad = post(client, "/api/v1/runs/", {"kind": "baking", "team": team.slug}, "k")
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.exists()
    good = post(client, "/api/v1/runs/", {"kind": "training", "team": team.slug}, "k")
    assert good.status_code == 201
    assert "Idempotent-Replayed" not in good


def test_a_refused_create_is_not_stored(outsider, team):
    """The outsider may not create in Credit Risk: the 403 is not kept for replay."""
    client = client_for(outsider)
    refused = post(client, "/api/v1/runs/", {"kind": "training", "team": team.slug}, "k")
    assert refused.status_code == 403
    assert not IdempotencyRecord.objects.exists()
    assert not Run.objects.exists()


def test_keys_are_per_user_so_another_users_answer_is_never_replayed(
    contributor, outsider, other_team, team
):
    carol = post(
        client_for(contributor), "/api/v1/runs/", {"kind": "training", "team": team.slug}, "k"
    )
    otto = post(
        client_for(outsider), "/api/v1/runs/", {"kind": "training", "team": other_team.slug}, "k"
    )
    assert (carol.status_code, otto.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in otto
    assert otto.json()["uuid"] != carol.json()["uuid"]
    assert otto.json()["team"] == "marketing"
    # Same key, same body as Carol's: Otto's own request, refused for him, not her answer.
    mimic = post(
        client_for(outsider), "/api/v1/runs/", {"kind": "training", "team": team.slug}, "k"
    )
    assert mimic.status_code == 422
    assert carol.json()["uuid"] not in mimic.content.decode()


def test_a_token_and_a_session_of_the_same_user_share_keys(contributor, team):
    _, secret = token_create(actor=contributor, name="ci", scopes=["read", "write"])
    token_client = APIClient()
    token_client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    body = {"kind": "training", "team": team.slug}
    first = post(token_client, "/api/v1/runs/", body, "k")
    again = post(client_for(contributor), "/api/v1/runs/", body, "k")
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["uuid"] == first.json()["uuid"]


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "naïve"])
def test_a_malformed_key_is_refused(contributor, team, key):
    client = client_for(contributor)
    response = client.post(
        "/api/v1/runs/",
        {"kind": "training", "team": team.slug},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["message"]
    assert not Run.objects.exists()


def test_expired_keys_are_ignored_and_pruned(contributor, team, settings):
    settings.STEWARD_IDEMPOTENCY_KEEP_HOURS = 1
    client = client_for(contributor)
    body = {"kind": "training", "team": team.slug}
    assert post(client, "/api/v1/runs/", body, "old").status_code == 201
    assert post(client, "/api/v1/runs/", body, "new").status_code == 201
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=2)
    )

    again = post(client, "/api/v1/runs/", body, "old")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Run.objects.count() == 3

    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=2)
    )
    assert idempotency_records_prune() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=2))
    call_command("prune_idempotency_keys")
    assert not IdempotencyRecord.objects.exists()


def test_a_prediction_batch_is_logged_once(team, gateway):
    version = ProductionVersionFactory(
        registered_model=RegisteredModelFactory(owner_team=team, name="credit-scoring"),
        input_schema=INPUT_SCHEMA,
        output_schema=OUTPUT_SCHEMA,
    )
    DeploymentFactory(model_version=version, name="credit-prod")
    records = _records(5, np.random.default_rng(0))
    body = {"records": json.loads(json.dumps(records, default=str))}
    client = client_for(gateway)
    first = post(client, "/api/v1/deployments/credit-prod/predictions/", body, "batch-1")
    again = post(client, "/api/v1/deployments/credit-prod/predictions/", body, "batch-1")
    assert first.status_code == 200, first.content
    assert first.json()["accepted"] == 5
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()  # not "5 duplicates": the first answer
    assert Prediction.objects.count() == 5


def test_the_schema_documents_the_header_and_the_422():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path in (
        "/api/v1/models/",
        "/api/v1/models/{model_name}/versions/",
        "/api/v1/datasets/",
        "/api/v1/datasets/{dataset_name}/versions/",
        "/api/v1/runs/",
        "/api/v1/deployments/{name}/predictions/",
    ):
        operation = schema["paths"][path]["post"]
        names = [p["name"] for p in operation.get("parameters", [])]
        assert "Idempotency-Key" in names, path
        assert "422" in operation["responses"], path
    assert "Idempotency-Key" not in str(schema["paths"]["/api/v1/artifacts/"]["post"])
