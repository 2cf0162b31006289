"""Reads of the registry that are more than one ``.filter()``."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Prefetch, QuerySet

from core.errors import InvalidInput
from registry.choices import Direction
from registry.lineage_kinds import lineage_kind_of
from registry.models import (
    Dataset,
    DatasetVersion,
    LineageNode,
    ModelVersion,
    ModelVersionDataset,
    RegisteredModel,
    Run,
    RunInput,
)


def registered_model_list() -> QuerySet[RegisteredModel]:
    """The catalogue, with what a list shows, in a constant number of queries."""
    return (
        RegisteredModel.objects.select_related("owner_team", "created_by")
        .prefetch_related("tags")
        .annotate(
            version_count=Count("versions", distinct=True), latest_version=Max("versions__version")
        )
    )


def model_version_list() -> QuerySet[ModelVersion]:
    return ModelVersion.objects.select_related(
        "registered_model",
        "registered_model__owner_team",
        "registered_by",
        "run",
        "artifact",
        "derived_from__registered_model",
    ).prefetch_related(
        Prefetch(
            "dataset_links",
            queryset=ModelVersionDataset.objects.select_related("dataset_version__dataset"),
        )
    )


def dataset_list() -> QuerySet[Dataset]:
    return (
        Dataset.objects.select_related("owner_team", "created_by")
        .prefetch_related("tags")
        .annotate(
            version_count=Count("versions", distinct=True), latest_version=Max("versions__version")
        )
    )


def dataset_version_list() -> QuerySet[DatasetVersion]:
    return DatasetVersion.objects.select_related(
        "dataset", "dataset__owner_team", "created_by", "produced_by_run"
    ).prefetch_related("derived_from__dataset")


def run_list() -> QuerySet[Run]:
    return Run.objects.select_related("team", "created_by").prefetch_related(
        Prefetch(
            "input_links", queryset=RunInput.objects.select_related("dataset_version__dataset")
        )
    )


@dataclass(frozen=True)
class GraphNode:
    id: int
    kind: str
    key: str
    label: str
    depth: int
    has_more: bool = False


@dataclass(frozen=True)
class GraphEdge:
    source: int
    target: int
    relation: str


@dataclass
class LineageGraph:
    """A closure of the lineage graph around ``root``: nodes with their distance from it and the
    edges between them. ``truncated`` says that the depth limit cut off further nodes."""

    root: int
    direction: str
    depth: int
    nodes: list[GraphNode] = field(default_factory=list)
    edges: list[GraphEdge] = field(default_factory=list)

    @property
    def truncated(self) -> bool:
        return any(node.has_more for node in self.nodes)


_NODE = "registry_lineagenode"
_EDGE = "registry_lineageedge"

# One statement: walk the edges breadth-first up to the depth limit (UNION drops a node reached
# again at the same depth, which bounds the walk by nodes x depth even on dense diamonds), keep
# each node's shortest distance, and return node rows and the edges between them together.
# The f-string only splices fixed table and column names; values are bound parameters.
_WALK_SQL = f"""
WITH RECURSIVE walk(node_id, depth) AS (
    SELECT CAST(%(root)s AS BIGINT), 0
    UNION
    SELECT e.{{near}}_id, w.depth + 1
    FROM {_EDGE} e JOIN walk w ON e.{{far}}_id = w.node_id
    WHERE w.depth < %(depth)s
),
closure(node_id, depth) AS (SELECT node_id, MIN(depth) FROM walk GROUP BY node_id)
SELECT 'n', n.id, NULL, n.kind, n.key, n.label, c.depth,
       CASE WHEN c.depth = %(depth)s
            THEN EXISTS (SELECT 1 FROM {_EDGE} x WHERE x.{{far}}_id = n.id) ELSE FALSE END
FROM closure c JOIN {_NODE} n ON n.id = c.node_id
UNION ALL
SELECT 'e', e.source_id, e.target_id, e.relation, NULL, NULL, NULL, NULL
FROM {_EDGE} e JOIN closure c ON e.{{far}}_id = c.node_id
WHERE c.depth < %(depth)s
"""  # noqa: S608

UPSTREAM_SQL = _WALK_SQL.format(near="source", far="target")
DOWNSTREAM_SQL = _WALK_SQL.format(near="target", far="source")


def lineage_depth_clean(depth: int | str | None) -> int:
    """A client's requested depth, checked against the server's limit."""
    limit = settings.LINEAGE_MAX_DEPTH
    if depth in (None, ""):
        return min(10, limit)
    try:
        value = int(depth)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            "depth must be an integer.", field_errors={"depth": ["Not an integer."]}
        ) from exc
    if not 1 <= value <= limit:
        raise InvalidInput(
            f"depth must be between 1 and {limit}.",
            field_errors={"depth": [f"Between 1 and {limit}."]},
        )
    return value


def _walk(root: LineageNode, sql: str, depth: int) -> tuple[dict[int, GraphNode], set[GraphEdge]]:
    nodes: dict[int, GraphNode] = {}
    edges: set[GraphEdge] = set()
    with connection.cursor() as cursor:
        cursor.execute(sql, {"root": root.pk, "depth": depth})
        for row_type, a, b, text, key, label, distance, has_more in cursor.fetchall():
            if row_type == "n":
                nodes[a] = GraphNode(a, text, key, label, distance, bool(has_more))
            else:
                edges.add(GraphEdge(a, b, text))
    return nodes, edges


def lineage_closure(
    *, root: LineageNode, direction: str = Direction.UPSTREAM, depth: int = 10
) -> LineageGraph:
    """Everything ``root`` was made from (upstream), everything made from it (downstream), or
    both, up to ``depth`` hops, as nodes and edges."""
    if direction not in Direction.values:
        raise InvalidInput(
            "direction must be upstream, downstream or both.",
            field_errors={"direction": ["One of upstream, downstream, both."]},
        )
    graph = LineageGraph(root=root.pk, direction=direction, depth=depth)
    nodes: dict[int, GraphNode] = {}
    edges: set[GraphEdge] = set()
    if direction in (Direction.UPSTREAM, Direction.BOTH):
        up_nodes, up_edges = _walk(root, UPSTREAM_SQL, depth)
        nodes.update(up_nodes)
        edges |= up_edges
    if direction in (Direction.DOWNSTREAM, Direction.BOTH):
        down_nodes, down_edges = _walk(root, DOWNSTREAM_SQL, depth)
        for node_id, node in down_nodes.items():
            if node_id not in nodes:
                nodes[node_id] = node
            elif node.has_more:
                nodes[node_id] = replace(node, depth=nodes[node_id].depth)
        edges |= down_edges
    graph.nodes = sorted(nodes.values(), key=lambda n: (n.depth, n.kind, n.key))
    graph.edges = sorted(edges, key=lambda e: (e.source, e.target, e.relation))
    return graph


def lineage_node_of(obj) -> LineageNode:
    """The lineage node of a registry object (every one gets a node when it is created)."""
    spec = lineage_kind_of(obj)
    return LineageNode.objects.get(kind=spec.kind, object_id=obj.pk)
