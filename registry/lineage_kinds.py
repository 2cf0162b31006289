"""How each kind of traceable object becomes a lineage node. The registry's own kinds are
registered in ``registry.services.lineage``; apps that come later (monitoring's deployments) add
theirs in ``AppConfig.ready()``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models


@dataclass(frozen=True)
class LineageKindSpec:
    kind: str
    key: Callable[[models.Model], str]
    label: Callable[[models.Model], str]


_KINDS: dict[type[models.Model], LineageKindSpec] = {}


def lineage_kind_register(
    model: type[models.Model], *, kind: str, key: Callable, label: Callable
) -> None:
    """Teach the lineage graph how to name objects of ``model``."""
    _KINDS[model] = LineageKindSpec(kind=kind, key=key, label=label)


def lineage_kind_of(obj: models.Model) -> LineageKindSpec:
    try:
        return _KINDS[type(obj)]
    except KeyError:
        raise LookupError(f"{type(obj).__name__} is not a lineage kind") from None
