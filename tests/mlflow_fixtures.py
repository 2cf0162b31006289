"""The real ``mlflow`` client pointed at a live Steward, as a fixture every test folder can use
(the MLflow protocol's own tests, the insider tests). Registered in the root conftest."""

from __future__ import annotations

import os

import pytest

from accounts.services import token_create


def token_of(user, scopes=("read", "write")) -> str:
    return token_create(actor=user, name="mlflow", scopes=list(scopes))[1]


@pytest.fixture
def mlflow_as(live_server, monkeypatch):
    """``mlflow_as(user, scopes=("read", "write"), password=None)``: the real ``mlflow`` client
    pointed at a live Steward (tracking and registry URI), authenticated as ``user`` with a
    Steward API token in ``MLFLOW_TRACKING_TOKEN`` or, given a password, with
    ``MLFLOW_TRACKING_USERNAME``/``PASSWORD``. Answers an ``MlflowClient``; the module-level
    fluent API (``mlflow.start_run``...) uses the same settings. No retries, no telemetry."""
    import mlflow

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("DO_NOT_TRACK", "true")
    # set_experiment keeps the active experiment in a module global and in os.environ
    # (MLFLOW_EXPERIMENT_ID): start every test without one, and leave none behind.
    for name in ("MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(mlflow.tracking.fluent, "_active_experiment_id", None)

    def login(user, scopes=("read", "write"), password: str | None = None):
        for name in (
            "MLFLOW_TRACKING_TOKEN",
            "MLFLOW_TRACKING_USERNAME",
            "MLFLOW_TRACKING_PASSWORD",
        ):
            monkeypatch.delenv(name, raising=False)
        if password is None:
            monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token_of(user, scopes))
        else:
            monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", user.username)
            monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", password)
        mlflow.set_tracking_uri(live_server.url)
        mlflow.set_registry_uri(live_server.url)
        return mlflow.MlflowClient(live_server.url, live_server.url)

    yield login
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri("")
    mlflow.set_registry_uri("")
    for name in ("MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME"):
        os.environ.pop(name, None)
