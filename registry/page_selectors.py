"""Reads the browser pages need on top of ``registry.selectors``: catalogue search and filters,
the one-object lookups by natural key, and the "what used this" lists of a detail page.

Every function starts from a selector in ``registry.selectors`` so that, when those become
permission-scoped, the pages inherit the scoping without change here."""

from __future__ import annotations

import contextlib
import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce, Greatest

from accounts.models import Team, User
from core.errors import InvalidInput, NotFound
from registry import selectors
from registry.choices import RiskTier, RunKind, RunStatus
from registry.models import (
    Dataset,
    DatasetVersion,
    ModelVersion,
    ModelVersionDataset,
    RegisteredModel,
    Run,
    Tag,
)
from registry.validators import NAME_PATTERN

MAX_QUERY_LENGTH = 200
_NAME = re.compile(NAME_PATTERN)
# PostgreSQL refuses NUL in text; other control characters are never part of a real search.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def search_text_clean(value: str, field: str = "q") -> str:
    """A search or filter value from the query string, refused (400) if it cannot be a search."""
    value = value.strip()
    if len(value) > MAX_QUERY_LENGTH:
        raise InvalidInput(
            f"The search text is longer than {MAX_QUERY_LENGTH} characters.",
            field_errors={field: [f"At most {MAX_QUERY_LENGTH} characters."]},
        )
    if _CONTROL_CHARACTERS.search(value):
        raise InvalidInput(
            "The search text contains control characters.",
            field_errors={field: ["Control characters are not allowed."]},
        )
    return value


def _require_name(name: str, what: str) -> None:
    """Names follow ``NAME_PATTERN``; anything else cannot exist, so it is not looked up (that
    also keeps bytes PostgreSQL refuses, such as NUL, away from the database)."""
    if not _NAME.fullmatch(name):
        raise NotFound(f"There is no {what} named '{name}'.")


@dataclass(frozen=True)
class CatalogueFilters:
    """What a catalogue page was asked to show; empty strings mean "any"."""

    q: str = ""
    risk_tier: str = ""
    team: str = ""
    tag: str = ""

    @property
    def active(self) -> bool:
        return any((self.q, self.risk_tier, self.team, self.tag))


def catalogue_filters_clean(params) -> CatalogueFilters:
    """Read the catalogue's query parameters. An unknown risk tier is a bad request; an unknown
    team or tag simply matches nothing, as a search would."""
    filters = CatalogueFilters(
        q=search_text_clean(params.get("q", ""), "q"),
        risk_tier=search_text_clean(params.get("risk_tier", ""), "risk_tier"),
        team=search_text_clean(params.get("team", ""), "team"),
        tag=search_text_clean(params.get("tag", ""), "tag").lower(),
    )
    if filters.risk_tier and filters.risk_tier not in RiskTier.values:
        raise InvalidInput(
            f"Unknown risk tier '{filters.risk_tier}'.",
            field_errors={"risk_tier": [f"One of {', '.join(RiskTier.values)}."]},
        )
    return filters


def _text_search(q: str, tag_model_field: str) -> Q:
    """Match ``q`` in the name, the description or a tag name. Tags are matched through
    ``Exists`` so that a row with two matching tags is not listed twice."""
    tagged = Tag.objects.filter(**{tag_model_field: OuterRef("pk")}, name__icontains=q)
    return Q(name__icontains=q) | Q(description__icontains=q) | Q(Exists(tagged))


def registered_model_catalogue(user: User, filters: CatalogueFilters) -> QuerySet[RegisteredModel]:
    """The model catalogue narrowed by search text, risk tier, owner team and tag, with the time
    of the last change to the model or any of its versions."""
    models = selectors.registered_model_list(user).annotate(
        last_activity=Greatest("updated_at", Coalesce(Max("versions__created_at"), "updated_at"))
    )
    if filters.q:
        models = models.filter(_text_search(filters.q, "registered_models"))
    if filters.risk_tier:
        models = models.filter(risk_tier=filters.risk_tier)
    if filters.team:
        models = models.filter(owner_team__slug=filters.team)
    if filters.tag:
        tagged = Tag.objects.filter(registered_models=OuterRef("pk"), name=filters.tag)
        models = models.filter(Exists(tagged))
    return models.order_by("name")


def catalogue_filter_choices(user: User) -> dict[str, QuerySet]:
    """The options of the catalogue's filter menus: only teams and tags that some model the
    user may see has."""
    visible = selectors.registered_model_list(user).values("pk")
    return {
        "teams": Team.objects.filter(registered_models__in=visible).distinct().order_by("name"),
        "tags": Tag.objects.filter(registered_models__in=visible).distinct().order_by("name"),
    }


def dataset_catalogue(user: User, q: str) -> QuerySet[Dataset]:
    q = search_text_clean(q)
    datasets = selectors.dataset_list(user).annotate(
        last_activity=Greatest("updated_at", Coalesce(Max("versions__created_at"), "updated_at"))
    )
    if q:
        datasets = datasets.filter(_text_search(q, "datasets"))
    return datasets.order_by("name")


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


@dataclass(frozen=True)
class RunFilters:
    """What the runs page was asked to show; empty strings mean "any"."""

    q: str = ""
    team: str = ""
    kind: str = ""
    status: str = ""

    @property
    def active(self) -> bool:
        return any((self.q, self.team, self.kind, self.status))


def run_filters_clean(params) -> RunFilters:
    """Read the runs page's query parameters. An unknown kind or status is a bad request; an
    unknown team simply matches nothing."""
    filters = RunFilters(
        q=search_text_clean(params.get("q", ""), "q"),
        team=search_text_clean(params.get("team", ""), "team"),
        kind=search_text_clean(params.get("kind", ""), "kind"),
        status=search_text_clean(params.get("status", ""), "status"),
    )
    for field, choices in (("kind", RunKind), ("status", RunStatus)):
        value = getattr(filters, field)
        if value and value not in choices.values:
            raise InvalidInput(
                f"Unknown run {field} '{value}'.",
                field_errors={field: [f"One of {', '.join(choices.values)}."]},
            )
    return filters


def run_catalogue(user: User, filters: RunFilters) -> QuerySet[Run]:
    """The runs the user may see, newest first, narrowed by name (or id), team, kind and
    status."""
    runs = selectors.run_list(user)
    if filters.q:
        match = Q(name__icontains=filters.q) | Q(notes__icontains=filters.q)
        with contextlib.suppress(ValueError):  # a run's id, pasted whole
            match |= Q(uuid=uuid.UUID(filters.q))
        runs = runs.filter(match)
    if filters.team:
        runs = runs.filter(team__slug=filters.team)
    if filters.kind:
        runs = runs.filter(kind=filters.kind)
    if filters.status:
        runs = runs.filter(status=filters.status)
    return runs.order_by("-created_at", "-pk")


def run_filter_choices(user: User) -> dict[str, Any]:
    """The options of the runs page's filter menus: teams some visible run belongs to."""
    visible = selectors.run_list(user).order_by().values("team")
    return {
        "teams": Team.objects.filter(pk__in=visible).order_by("name"),
        "kinds": RunKind.choices,
        "statuses": RunStatus.choices,
    }
