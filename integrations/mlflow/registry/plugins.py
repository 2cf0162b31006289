"""What the MLflow registry part registers with the earlier apps when Django starts."""

from __future__ import annotations

from core.audit import auditlog_register
from integrations.mlflow.registry.storage_note import mlflow_version_storage_note
from integrations.models import MlflowModelTag, MlflowVersionSource, MlflowVersionTag
from registry.panels import version_storage_note_register


def mlflow_registry_plugins_register() -> None:
    """Called once from IntegrationsConfig.ready: the key/value tags of models and versions and
    a version's MLflow source are audited field by field, with the actor the request names."""
    for model in (MlflowModelTag, MlflowVersionTag, MlflowVersionSource):
        auditlog_register(model)

    # The version page says that Steward holds the files MLflow logged for a version.

    version_storage_note_register(mlflow_version_storage_note)
