"""What a batch of predictions costs the database, through the API as a gateway sends it."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.services import token_create
from monitoring.models import Prediction
from monitoring.tests.test_monitoring_api import deployed, version  # noqa: F401 - fixtures
from monitoring.tests.test_monitoring_services import _records

pytestmark = pytest.mark.django_db

URL = "/api/v1/deployments/credit-prod/predictions/"
# On PostgreSQL: the token with the caller's roles, the deployment (view), the service
# transaction's savepoint, the deployment with its version (service), the COPY's savepoint and
# the two releases. The COPY itself runs on psycopg's own cursor, which Django
# does not log. Whatever the size of the batch: no query per record.
POSTGRES_QUERIES = 7


def _gateway_client(gateway) -> APIClient:
    _, secret = token_create(actor=gateway, name="gateway", scopes=["write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _post_counted(client, records) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.post(URL, {"records": records}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == len(records)
    return len(captured.captured_queries), [q["sql"] for q in captured.captured_queries]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY path is PostgreSQL's")
def test_a_batch_costs_the_same_queries_whatever_its_size(deployed, gateway):  # noqa: F811
    client = _gateway_client(gateway)
    rng = np.random.default_rng(3)
    _post_counted(client, _records(1, rng, prefix="first"))  # per-process caches
    small, first = _post_counted(client, _records(5, rng, prefix="small"))
    large, statements = _post_counted(client, _records(400, rng, prefix="large"))
    assert small == large == POSTGRES_QUERIES, [s[:60] for s in first + ["--"] + statements]
    assert Prediction.objects.count() == 406
