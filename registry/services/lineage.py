"""Writes on the lineage graph."""

from __future__ import annotations

from django.db import models

from registry.choices import LineageKind, LineageRelation
from registry.lineage_kinds import lineage_kind_of, lineage_kind_register
from registry.models import DatasetVersion, LineageEdge, LineageNode, ModelVersion, Run

lineage_kind_register(
    DatasetVersion,
    kind=LineageKind.DATASET_VERSION,
    key=lambda dv: dv.natural_key,
    label=lambda dv: f"{dv.dataset.name} v{dv.version}",
    owner_team_id=lambda dv: dv.dataset.owner_team_id,
)
lineage_kind_register(
    Run,
    kind=LineageKind.RUN,
    key=lambda run: str(run.uuid),
    label=lambda run: f"{run.kind}: {run.name or str(run.uuid)[:8]}",
    owner_team_id=lambda run: run.team_id,
)
lineage_kind_register(
    ModelVersion,
    kind=LineageKind.MODEL_VERSION,
    key=lambda mv: mv.natural_key,
    label=lambda mv: f"{mv.registered_model.name} v{mv.version}",
    owner_team_id=lambda mv: mv.registered_model.owner_team_id,
    registered_model_id=lambda mv: mv.registered_model_id,
)


def lineage_node_ensure(obj: models.Model, *, new: bool = False) -> LineageNode:
    """Return the node of ``obj``, creating it on first use. ``new=True`` says ``obj`` was just
    created in this transaction, so it cannot have a node yet: one INSERT, no lookup and no
    savepoint (the unique (kind, object_id) constraint is still the backstop)."""
    spec = lineage_kind_of(obj)
    fields = {
        "key": spec.key(obj),
        "label": spec.label(obj),
        "owner_team_id": spec.owner_team_id(obj),
        "registered_model_id": spec.registered_model_id(obj),
    }
    if new:
        return LineageNode.objects.create(kind=spec.kind, object_id=obj.pk, **fields)
    node, _ = LineageNode.objects.get_or_create(kind=spec.kind, object_id=obj.pk, defaults=fields)
    return node


def lineage_edge_add(*, source: models.Model, target: models.Model, relation: str) -> LineageEdge:
    """Record that ``source`` went into making ``target`` (idempotent)."""
    if relation not in LineageRelation.values:
        raise ValueError(f"unknown lineage relation {relation!r}")
    edge, _ = LineageEdge.objects.get_or_create(
        source=lineage_node_ensure(source), target=lineage_node_ensure(target), relation=relation
    )
    return edge
