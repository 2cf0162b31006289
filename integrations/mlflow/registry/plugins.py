"""What the MLflow registry part registers with the earlier apps when Django starts (auditlog
registrations of its rows, page panels, ...)."""

from __future__ import annotations


def mlflow_registry_plugins_register() -> None:
    """Called once from IntegrationsConfig.ready."""
