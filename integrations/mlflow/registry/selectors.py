"""Reads of the MLflow registry routes: Steward's models and versions the user may see
(through the registry's own permission filters), with everything an MLflow answer shows
prefetched, so a page of any size costs a constant number of queries."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from accounts.models import User
from core.errors import NotFound
from registry.models import ModelAlias, ModelVersion, RegisteredModel


def _versions_shown() -> QuerySet[ModelVersion]:
    """Versions with what ``answers.model_version_answer`` reads."""
    return ModelVersion.objects.select_related(
        "registered_model", "registered_by", "run", "mlflow_source"
    ).prefetch_related(
        "mlflow_tags", Prefetch("aliases", queryset=ModelAlias.objects.only("name", "version"))
    )


def mlflow_model_list(user: User) -> QuerySet[RegisteredModel]:
    """Registered models the user may see, each with its tags, aliases and versions (for its
    latest version per stage)."""
    return (
        RegisteredModel.objects.select_related("owner_team", "created_by")
        .prefetch_related(
            "mlflow_tags",
            Prefetch("aliases", queryset=ModelAlias.objects.select_related("version")),
            Prefetch("versions", queryset=_versions_shown()),
        )
        .restrict(user)
    )


def mlflow_version_list(user: User) -> QuerySet[ModelVersion]:
    """Model versions the user may see, with what an MLflow answer shows of each."""
    return _versions_shown().restrict(user)


def mlflow_model_get(user: User, name: str) -> RegisteredModel:
    """One visible model by name; another team's answers as one that does not exist."""
    model = mlflow_model_list(user).filter(name=name).first()
    if model is None:
        raise NotFound(f"Registered Model with name={name} not found")
    return model


def mlflow_model_bare(user: User, name: str) -> RegisteredModel:
    """One visible model by name, without what an answer shows (for writes)."""
    model = (
        RegisteredModel.objects.select_related("owner_team")
        .restrict(user)
        .filter(name=name)
        .first()
    )
    if model is None:
        raise NotFound(f"Registered Model with name={name} not found")
    return model


def mlflow_version_get(user: User, name: str, version: int) -> ModelVersion:
    found = mlflow_version_list(user).filter(registered_model__name=name, version=version).first()
    if found is None:
        raise NotFound(f"Model Version (name={name}, version={version}) not found")
    return found
