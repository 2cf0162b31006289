"""What the MLflow tracking part registers with the earlier apps when Django starts: its rows
in the field-level audit log (who renamed an experiment, deleted a run, finalized a logged
model, placed a file under an artifact root). Metric history rows are not registered: each is
an append-only point, and the latest values reach the run, and the chain, when it ends."""

from __future__ import annotations

from core.audit import auditlog_register
from integrations.models.mlflow import (
    MlflowArtifactFile,
    MlflowExperiment,
    MlflowLoggedModel,
    MlflowRun,
)


def mlflow_tracking_plugins_register() -> None:
    """Called once from IntegrationsConfig.ready."""
    for model in (MlflowExperiment, MlflowRun, MlflowLoggedModel, MlflowArtifactFile):
        auditlog_register(model)
