"""The MLflow routes' common ground, through the real client: who may call, and MLflow's error
body for what Steward does not serve."""

from __future__ import annotations

import pytest
import requests
from mlflow.exceptions import MlflowException

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_answers_an_unknown_mlflow_endpoint_with_mlflows_error(live_server, contributor):
    from integrations.tests.conftest import token_of

    secret = token_of(contributor)
    answer = requests.get(
        f"{live_server.url}/api/2.0/mlflow/no-such-thing/get",
        headers={"Authorization": f"Bearer {secret}"},
        timeout=30,
    )
    assert answer.status_code == 404
    assert answer.json()["error_code"] == "ENDPOINT_NOT_FOUND"


def test_it_refuses_a_bad_token_as_unauthenticated(mlflow_as, contributor, monkeypatch):
    client = mlflow_as(contributor)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "stw_not-a-real-token")
    with pytest.raises(MlflowException) as refused:
        client.search_registered_models()
    assert refused.value.error_code in ("UNAUTHENTICATED", "ENDPOINT_NOT_FOUND")
