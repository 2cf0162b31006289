"""What the MLflow tracking part registers with the earlier apps when Django starts: its rows
in the field-level audit log (who renamed an experiment, deleted a run, finalized a logged
model, placed a file under an artifact root). Metric history rows are not registered: each is
an append-only point, and the latest values reach the run, and the chain, when it ends."""

from __future__ import annotations

from accounts.access import governed_register
from core.audit import auditlog_register
from integrations.models.mlflow import (
    MlflowArtifactFile,
    MlflowExperiment,
    MlflowLoggedModel,
    MlflowRun,
)


def mlflow_tracking_plugins_register() -> None:
    """Called once from IntegrationsConfig.ready."""
    # An experiment is a folder of its team's runs: seen as they are, by its team. It answers
    # no model-level question (its admin, if any, keeps Django's permissions).
    governed_register(MlflowExperiment, team="team", model_level=False)
    for model in (MlflowExperiment, MlflowRun, MlflowLoggedModel, MlflowArtifactFile):
        auditlog_register(model)
