"""The monitoring API as a serving gateway, a manager and an auditor use it."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import token_create
from monitoring.choices import CheckKind
from monitoring.models import Deployment, Prediction
from monitoring.services.checks import checks_run
from monitoring.tests.test_monitoring_services import (
    INPUT_SCHEMA,
    OUTPUT_SCHEMA,
    _records,
    approve,
)
from tests.factories import ModelVersionFactory, RegisteredModelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(team, contributor, validator, manager):
    model = RegisteredModelFactory(owner_team=team, name="credit-scoring")
    version = ModelVersionFactory(
        registered_model=model,
        input_schema=INPUT_SCHEMA,
        output_schema=OUTPUT_SCHEMA,
        metrics={"auc": 0.9, "accuracy": 0.85},
    )
    return approve(version, contributor, validator, manager)


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def deployed(version, manager):
    response = client_for(manager).post(
        "/api/v1/deployments/",
        {
            "model": "credit-scoring",
            "version": version.version,
            "name": "credit-prod",
            "environment": "production",
            "mode": "live",
            "description": "Live after the approval of the credit committee.",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return Deployment.objects.get(name="credit-prod")


def test_a_manager_deploys_and_the_version_goes_to_production(deployed, version, manager):
    body = client_for(manager).get("/api/v1/deployments/credit-prod/").json()
    assert body["version_status"] == "production"
    assert body["deployed_by"] == "max"
    assert (body["environment"], body["mode"], body["traffic_percent"]) == (
        "production",
        "live",
        100,
    )


def test_a_gateway_logs_a_batch_with_a_token(deployed, gateway):
    _, secret = token_create(actor=gateway, name="gateway", scopes=["read", "write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    records = _records(20, np.random.default_rng(0))
    records[3]["inputs"]["age"] = None
    response = client.post(
        "/api/v1/deployments/credit-prod/predictions/", {"records": records}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (19, 0, 1)
    assert body["errors"][0]["index"] == 3
    assert body["errors"][0]["request_id"] == "r-3"
    assert "inputs: 'age' is required (null given)" in body["errors"][0]["errors"]
    again = client.post(
        "/api/v1/deployments/credit-prod/predictions/", {"records": records[:5]}, format="json"
    ).json()
    assert (again["accepted"], again["duplicates"]) == (0, 4)
    assert Prediction.objects.count() == 19


def test_a_read_token_cannot_log(deployed, gateway):
    _, secret = token_create(actor=gateway, name="reader", scopes=["read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = client.post(
        "/api/v1/deployments/credit-prod/predictions/",
        {"records": _records(1, np.random.default_rng(0))},
        format="json",
    )
    assert response.status_code == 403
    assert Prediction.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [{}, {"records": "x"}, {"records": []}, {"records": [{"request_id": "a"}]}, [1, 2]],
)
def test_bad_batches_are_400_with_a_message(deployed, gateway, body):
    response = client_for(gateway).post(
        "/api/v1/deployments/credit-prod/predictions/", body, format="json"
    )
    assert response.status_code == 400
    assert response.json()["message"]
    assert Prediction.objects.count() == 0


def test_a_batch_too_large_is_refused(deployed, gateway):
    records = [{"request_id": str(i)} for i in range(10_001)]
    response = client_for(gateway).post(
        "/api/v1/deployments/credit-prod/predictions/", {"records": records}, format="json"
    )
    assert response.status_code == 400
    assert "at most 10000" in response.json()["message"]


def test_which_model_said_this_and_who_approved_it(deployed, gateway, outsider, auditor):
    client_for(gateway).post(
        "/api/v1/deployments/credit-prod/predictions/",
        {"records": _records(3, np.random.default_rng(1))},
        format="json",
    )
    client_for(gateway).post(
        "/api/v1/deployments/credit-prod/feedback/",
        {"records": [{"request_id": "r-1", "ground_truth": 1}]},
        format="json",
    )
    [trace] = client_for(auditor).get("/api/v1/predictions/r-1/").json()
    assert (trace["model"], trace["version"], trace["deployment"]) == (
        "credit-scoring",
        1,
        "credit-prod",
    )
    assert trace["ground_truth"] == 1
    actions = [(d["action"], d["actor"]) for d in trace["approval_record"]]
    assert ("approve", "max") in actions
    assert ("sign_off", "vera") in actions
    assert ("promote", "max") in actions
    assert trace["lineage_url"].endswith("/lineage/?direction=upstream")
    assert client_for(outsider).get("/api/v1/predictions/r-1/").status_code == 404
    assert client_for(auditor).get("/api/v1/predictions/unknown/").status_code == 404


def test_checks_and_health_are_read_back(deployed, validator, manager):
    baseline = client_for(validator).post(
        "/api/v1/models/credit-scoring/versions/1/baselines/",
        {
            "rows": [
                {"income": float(i), "age": 30.0 + i % 7, "segment": "a", "label": i % 2}
                for i in range(300)
            ]
        },
        format="json",
    )
    assert baseline.status_code == 201, baseline.content
    end = timezone.now()
    checks_run(deployment=deployed, window_start=end - timedelta(days=1), window_end=end)
    results = client_for(manager).get("/api/v1/deployments/credit-prod/checks/?kind=drift").json()
    assert [r["kind"] for r in results["results"]] == ["drift"]
    health = client_for(manager).get("/api/v1/deployments/credit-prod/health/").json()
    assert health["kind"] == CheckKind.HEALTH
    bad = client_for(manager).get("/api/v1/deployments/credit-prod/checks/?kind=nope")
    assert bad.status_code == 400


def test_a_baseline_from_a_csv_body(deployed, validator):
    csv = "income,age,segment,label\n" + "\n".join(
        f"{1000 * i},{20 + i % 40},{'ab'[i % 2]},{i % 2}" for i in range(200)
    )
    response = client_for(validator).post(
        "/api/v1/models/credit-scoring/versions/1/baselines/", csv, content_type="text/csv"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["row_count"] == 200
    assert body["features"] == ["age", "income", "segment"]
    missing = client_for(validator).post(
        "/api/v1/models/credit-scoring/versions/1/baselines/",
        {"from_training_data": True},
        format="json",
    )
    assert missing.status_code == 400
    assert "training dataset" in missing.json()["message"]


def test_kpis_take_reported_values(deployed, manager, gateway):
    created = client_for(manager).post(
        "/api/v1/kpis/",
        {
            "name": "Approval rate",
            "deployment": "credit-prod",
            "direction": "higher_is_better",
            "warning_threshold": 0.6,
            "critical_threshold": 0.4,
            "unit": "",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    kpi = created.json()["id"]
    value = client_for(gateway).post(
        f"/api/v1/kpis/{kpi}/values/", {"deployment": "credit-prod", "value": 0.5}, format="json"
    )
    assert value.status_code == 201, value.content
    assert value.json()["status"] == "warning"
    listed = client_for(manager).get(f"/api/v1/kpis/{kpi}/values/").json()
    assert [v["value"] for v in listed["results"]] == [0.5]
    inverted = client_for(manager).post(
        "/api/v1/kpis/",
        {
            "name": "x",
            "deployment": "credit-prod",
            "direction": "higher_is_better",
            "warning_threshold": 0.4,
            "critical_threshold": 0.6,
        },
        format="json",
    )
    assert inverted.status_code == 400


def test_feedback_with_no_usable_record_is_a_400_and_records_nothing(deployed, gateway):
    """Found by the API fuzzer: the same rule as for predictions, a batch of only bad records
    is the client's error."""
    api = client_for(gateway)
    api.post(
        "/api/v1/deployments/credit-prod/predictions/",
        {"records": _records(1, np.random.default_rng(2))},
        format="json",
    )
    url = "/api/v1/deployments/credit-prod/feedback/"

    response = api.post(url, {"records": [{"ground_truth": 1}, "x"]}, format="json")
    assert response.status_code == 400
    assert response.json()["rejected"] == 2 and response.json()["errors"]
    assert not Prediction.objects.filter(ground_truth__isnull=False).exists()

    mixed = api.post(
        url, {"records": [{"request_id": "r-0", "ground_truth": 1}, "x"]}, format="json"
    )
    assert mixed.status_code == 200
    assert (mixed.json()["updated"], mixed.json()["rejected"]) == (1, 1)
