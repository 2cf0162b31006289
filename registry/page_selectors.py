"""Reads the browser pages need on top of ``registry.selectors``: the catalogues (filtered by the
FilterSets of ``registry.filters``, which the API shares), the one-object lookups by natural
key, and the "what used this" lists of a detail page.

Every function starts from a selector in ``registry.selectors`` so that, when those become
permission-scoped, the pages inherit the scoping without change here."""

from __future__ import annotations

import re
import uuid

from django.db.models import Max, QuerySet
from django.db.models.functions import Coalesce, Greatest

from accounts.models import User
from core.errors import NotFound
from registry import selectors
from registry.filters import DatasetFilter, RegisteredModelFilter, RunFilter
from registry.models import (
    Dataset,
    DatasetVersion,
    ModelVersion,
    ModelVersionDataset,
    RegisteredModel,
    Run,
)
from registry.validators import NAME_PATTERN

_NAME = re.compile(NAME_PATTERN)


def _require_name(name: str, what: str) -> None:
    """Names follow ``NAME_PATTERN``; anything else cannot exist, so it is not looked up (that
    also keeps bytes PostgreSQL refuses, such as NUL, away from the database)."""
    if not _NAME.fullmatch(name):
        raise NotFound(f"There is no {what} named '{name}'.")


def _with_last_activity(queryset: QuerySet) -> QuerySet:
    """Each row with the time of the last change to it or to any of its versions."""
    return queryset.annotate(
        last_activity=Greatest("updated_at", Coalesce(Max("versions__created_at"), "updated_at"))
    )


def registered_model_catalogue(filters: RegisteredModelFilter) -> QuerySet[RegisteredModel]:
    """The model catalogue: the models ``filters`` kept (it was bound to the models the user
    may see, ``selectors.registered_model_list``), by name, with their last activity."""
    return _with_last_activity(filters.qs).order_by("name")


def dataset_catalogue(filters: DatasetFilter) -> QuerySet[Dataset]:
    """The dataset catalogue: the datasets ``filters`` kept, by name, with their last
    activity."""
    return _with_last_activity(filters.qs).order_by("name")


def registered_model_get(user: User, name: str) -> RegisteredModel:
    _require_name(name, "model")
    model = selectors.registered_model_list(user).filter(name=name).first()
    if model is None:
        raise NotFound(f"There is no model named '{name}'.")
    return model


def model_versions_of(user: User, model: RegisteredModel) -> QuerySet[ModelVersion]:
    return selectors.model_version_list(user).filter(registered_model=model).order_by("-version")


def model_version_get(user: User, name: str, version: int) -> ModelVersion:
    _require_name(name, "model")
    found = (
        selectors.model_version_list(user)
        .filter(registered_model__name=name, version=version)
        .first()
    )
    if found is None:
        raise NotFound(f"Model '{name}' has no version {version}.")
    return found


def dataset_get(user: User, name: str) -> Dataset:
    _require_name(name, "dataset")
    dataset = selectors.dataset_list(user).filter(name=name).first()
    if dataset is None:
        raise NotFound(f"There is no dataset named '{name}'.")
    return dataset


def dataset_versions_of(user: User, dataset: Dataset) -> QuerySet[DatasetVersion]:
    return selectors.dataset_version_list(user).filter(dataset=dataset).order_by("-version")


def dataset_version_get(user: User, name: str, version: int) -> DatasetVersion:
    _require_name(name, "dataset")
    found = selectors.dataset_version_list(user).filter(dataset__name=name, version=version).first()
    if found is None:
        raise NotFound(f"Dataset '{name}' has no version {version}.")
    return found


def dataset_version_usage(user: User, dataset_version: DatasetVersion) -> dict[str, QuerySet]:
    """What was made from a dataset version that the user may see: model versions (with the
    role it played), runs that read it, and dataset versions derived from it."""
    return {
        "model_links": ModelVersionDataset.objects.filter(
            dataset_version=dataset_version,
            model_version__in=selectors.model_version_list(user).values("pk"),
        )
        .select_related("model_version__registered_model", "model_version__registered_by")
        .order_by("model_version__registered_model__name", "-model_version__version", "role"),
        "run_links": dataset_version.run_input_links.filter(
            run__in=selectors.run_list(user).values("pk")
        )
        .select_related("run", "run__team")
        .order_by("-run__created_at"),
        "derivatives": selectors.dataset_version_list(user)
        .filter(derived_from=dataset_version)
        .order_by("dataset__name", "version"),
    }


def run_get(user: User, run_uuid: uuid.UUID | str) -> Run:
    found = selectors.run_list(user).filter(uuid=run_uuid).first()
    if found is None:
        raise NotFound(f"There is no run {run_uuid}.")
    return found


def run_outputs(user: User, run: Run) -> dict[str, QuerySet]:
    return {
        "dataset_versions": selectors.dataset_version_list(user)
        .filter(produced_by_run=run)
        .order_by("dataset__name", "version"),
        "model_versions": selectors.model_version_list(user)
        .filter(run=run)
        .order_by("registered_model__name", "version"),
    }


def run_catalogue(filters: RunFilter) -> QuerySet[Run]:
    """The runs ``filters`` kept (bound to the runs the user may see), newest first."""
    return filters.qs.order_by("-created_at", "-pk")
