"""How each kind of traceable object becomes a lineage node. The registry's own kinds are
registered in ``registry.services.lineage``; apps that come later (monitoring's deployments) add
theirs in ``AppConfig.ready()``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models


@dataclass(frozen=True)
class LineageKindSpec:
    """How an object of one model class appears in the lineage graph: its kind, natural key and
    label, and who may see it (its owner team and, for model-scoped grants, its model)."""

    kind: str
    key: Callable[[models.Model], str]
    label: Callable[[models.Model], str]
    owner_team_id: Callable[[models.Model], int | None]
    registered_model_id: Callable[[models.Model], int | None] = lambda obj: None


_KINDS: dict[type[models.Model], LineageKindSpec] = {}


def lineage_kind_register(model: type[models.Model], **spec) -> None:
    """Teach the lineage graph how to name objects of ``model`` (see LineageKindSpec)."""
    _KINDS[model] = LineageKindSpec(**spec)


def lineage_kind_of(obj: models.Model) -> LineageKindSpec:
    try:
        return _KINDS[type(obj)]
    except KeyError:
        raise LookupError(f"{type(obj).__name__} is not a lineage kind") from None
