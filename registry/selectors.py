"""Reads of the registry that are more than one ``.filter()``, for the API and the pages alike:
the permission-scoped lists, the catalogues (filtered by the FilterSets of ``registry.filters``,
which both faces bind), the one-object lookups by natural key, the "what used this" lists of a
detail page, and the lineage closure. Every read starts from a permission-scoped list, so what
a user may not see is neither listed nor found (a 404)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django.db.models import (
    Case,
    Count,
    Max,
    Prefetch,
    QuerySet,
    Value,
    When,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce, Greatest

from accounts.access import may
from accounts.choices import Verb
from accounts.models import User
from core.errors import InvalidInput, NotFound
from core.hashing import is_sha256
from core.precompiled import PrecompiledRows
from registry.choices import Direction
from registry.filters import DatasetFilter, RegisteredModelFilter, RunFilter
from registry.lineage_kinds import lineage_kind_of
from registry.models import (
    Artifact,
    Dataset,
    DatasetVersion,
    LineageNode,
    ModelAlias,
    ModelVersion,
    ModelVersionDataset,
    RegisteredModel,
    Run,
    RunInput,
)
from registry.permissions import Visibility
from registry.selectors_api import (
    model_version_answer_get,
    model_version_links_read,
    model_version_page_get,
    model_versions_answer,
    registered_model_answer_get,
    registered_model_bare_get,
    registered_models_answer,
)
from registry.validators import NAME_PATTERN


def registered_model_list(user: User) -> QuerySet[RegisteredModel]:
    """The catalogue the user may see, with what a list shows, in a constant number of
    queries."""
    return (
        RegisteredModel.objects.select_related("owner_team", "created_by")
        .prefetch_related("tags")
        .annotate(
            version_count=Count("versions", distinct=True), latest_version=Max("versions__version")
        )
    ).restrict(user)


def registered_model_list_brief(user: User) -> QuerySet[RegisteredModel]:
    """What the API shows of the models the user may see (``RegisteredModelSerializer``): only
    the columns it shows of the team and the creator, and the counts, tags and aliases in the
    same query (:mod:`registry.selectors_api`)."""
    return registered_models_answer().restrict(user)


def registered_model_answer(user: User, name: str) -> RegisteredModel | None:
    """The model ``name`` as the API shows it (:func:`registered_model_list_brief`'s row), or
    None if there is none or ``user`` may not see it."""
    return _if_visible(user, registered_model_answer_get.get(name=name))


def registered_model_named(user: User, name: str) -> RegisteredModel | None:
    """The model ``name`` with its team (:func:`registered_model_visible`'s row), or None if
    there is none or ``user`` may not see it."""
    return _if_visible(user, registered_model_bare_get.get(name=name))


def _if_visible(user: User, found):
    # A precompiled read is unrestricted: the same rules as restrict(), asked of the one row.
    return found if found is not None and may(user, Verb.VIEW, found) else None


def registered_model_visible(user: User, verb: str = Verb.VIEW) -> QuerySet[RegisteredModel]:
    """The models the user may ``verb``, bare: for looking one up by name (no counts)."""
    return RegisteredModel.objects.select_related("owner_team").restrict(user, verb)


def model_version_list(user: User) -> QuerySet[ModelVersion]:
    return (
        ModelVersion.objects.select_related(
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
    ).restrict(user)


def registered_model_answer_prepare(model: RegisteredModel) -> RegisteredModel:
    """A model a service just registered, ready for ``RegisteredModelSerializer`` without
    reading it back: the service's instance holds its team and creator; it has no version and
    no alias yet; its tags are read (one query) only if it has any."""
    model.version_count = 0
    model.latest_version = None
    prefetch_related_objects([model], "tags")  # skipped when the service knows there are none
    model.api_alias_rows = None  # no alias yet
    return model


def model_version_answer_prepare(version: ModelVersion) -> ModelVersion:
    """A version a service just registered, ready for ``ModelVersionSerializer``: the service's
    instance already holds its model, run, parent and registrant, so only its data links are
    read back (one query) instead of the whole version again; it has no aliases yet."""
    if "dataset_links" not in getattr(version, "_prefetched_objects_cache", {}):
        model_version_links_read(version)  # else the service knows it has none
    version.api_alias_rows = None  # a version just registered has no alias yet
    return version


def model_version_answer(user: User, model_name: str, number) -> ModelVersion | None:
    """Version ``number`` of model ``model_name`` as the API shows it
    (:func:`model_version_list_brief`'s row), or None if there is none or ``user`` may not see
    it."""
    return _if_visible(
        user, model_version_answer_get.get(registered_model__name=model_name, version=number)
    )


def model_version_pages(model: RegisteredModel) -> PrecompiledRows:
    """The versions of ``model`` newest first, as :func:`model_version_list_brief` shows them,
    for the API's pages (``TotalInPagePaginator`` reads them), for a caller who may see the
    model: a version is exactly as visible as its model (its permissions are asked of the
    model), so they need no filter of their own."""
    return PrecompiledRows(model_version_page_get, {"registered_model_id": model.pk})


def model_version_list_brief(user: User) -> QuerySet[ModelVersion]:
    """What the API shows of a version (``ModelVersionSerializer``), read with only the columns
    of the linked rows it names, its data links and aliases in the same query
    (:mod:`registry.selectors_api`): the same rows as :func:`model_version_list`."""
    return model_versions_answer().restrict(user)


# --- aliases -----------------------------------------------------------------------------------


def model_alias_version(*, user: User, model: RegisteredModel, alias: str) -> ModelVersion:
    """The version ``alias`` of ``model`` points at, with its model; ``NotFound`` if the model
    has no such alias or ``user`` may not see it."""
    found = (
        ModelVersion.objects.select_related("registered_model")
        .restrict(user)
        .filter(registered_model=model, aliases__name=alias)
        .first()
    )
    if found is None:
        raise NotFound(f"{model.name} has no alias '{alias}'.")
    return found


def model_aliases(model: RegisteredModel) -> list[ModelAlias]:
    """The aliases of ``model`` by name, each with its version and who set it. The caller has
    checked that the user may see the model (its aliases are as visible as it is)."""
    return list(
        ModelAlias.objects.filter(registered_model=model)
        .select_related("version", "set_by")
        .order_by("name")
    )


def version_aliases_prefetch() -> Prefetch:
    """``prefetch_related(version_aliases_prefetch())`` on versions: ``version.aliases.all()``
    then holds each version's aliases (by name) in one query for the whole list."""
    return Prefetch(
        "aliases",
        queryset=ModelAlias.objects.only("id", "name", "version_id").order_by("name"),
    )


def model_aliases_prefetch() -> Prefetch:
    """``prefetch_related(model_aliases_prefetch())`` on registered models:
    ``model.aliases.all()`` then holds each model's aliases with their version numbers, in one
    query for the whole list."""
    return Prefetch(
        "aliases",
        queryset=ModelAlias.objects.select_related("version")
        .only("id", "name", "registered_model_id", "version_id", "version__version")
        .order_by("name"),
    )


def dataset_list(user: User) -> QuerySet[Dataset]:
    return (
        Dataset.objects.select_related("owner_team", "created_by")
        .prefetch_related("tags")
        .annotate(
            version_count=Count("versions", distinct=True), latest_version=Max("versions__version")
        )
    ).restrict(user)


def dataset_version_list(user: User) -> QuerySet[DatasetVersion]:
    return (
        DatasetVersion.objects.select_related(
            "dataset", "dataset__owner_team", "created_by", "produced_by_run"
        ).prefetch_related("derived_from__dataset")
    ).restrict(user)


def run_list(user: User) -> QuerySet[Run]:
    return (
        Run.objects.select_related("team", "created_by").prefetch_related(
            Prefetch(
                "input_links",
                queryset=RunInput.objects.select_related("dataset_version__dataset"),
            )
        )
    ).restrict(user)


def artifact_list(user: User) -> QuerySet[Artifact]:
    """Uploads the user may see (their own, and those a record they may view links)."""
    return Artifact.objects.select_related("uploaded_by").restrict(user)


def artifact_readable(user: User, sha256: str) -> Artifact | None:
    """May ``user`` read the stored bytes with this SHA-256? The upload to read them through
    (their own first, else the newest they may see), or None: the same answer whether Steward
    holds no such bytes or holds them for someone else, so it is no oracle. Every read of the
    store by hash (downloads, version references, baselines from training data) asks this."""
    if not is_sha256(sha256):
        return None
    own_first = Case(When(uploaded_by=user, then=Value(0)), default=Value(1))
    return (
        artifact_list(user).filter(sha256=sha256).order_by(own_first, "-created_at", "-pk").first()
    )


HIDDEN = "hidden"


# Named tuples rather than dataclasses: a closure builds thousands of them per request, and a
# tuple is built, hashed and sorted in C.
class GraphNode(NamedTuple):
    id: int
    kind: str
    key: str
    label: str
    depth: int
    has_more: bool = False

    @property
    def hidden(self) -> bool:
        return self.kind == HIDDEN


class GraphEdge(NamedTuple):
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

    @property
    def hidden_count(self) -> int:
        return sum(1 for node in self.nodes if node.hidden)


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
            THEN EXISTS (SELECT 1 FROM {_EDGE} x WHERE x.{{far}}_id = n.id) ELSE FALSE END,
       n.owner_team_id, n.registered_model_id
FROM closure c JOIN {_NODE} n ON n.id = c.node_id
UNION ALL
SELECT 'e', e.source_id, e.target_id, e.relation, NULL, NULL, NULL, NULL, NULL, NULL
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


def _walk(
    root: LineageNode, sql: str, depth: int, visible: Visibility
) -> tuple[dict[int, GraphNode], list[GraphEdge]]:
    """One direction of a closure. The statement returns each edge once (its far end appears
    once in the closure), so no de-duplication is needed here."""
    nodes: dict[int, GraphNode] = {}
    edges: list[GraphEdge] = []
    root_id = root.pk
    with connection.cursor() as cursor:
        cursor.execute(sql, {"root": root_id, "depth": depth})
        rows = cursor.fetchall()
    for row_type, a, b, text, key, label, distance, has_more, team_id, model_id in rows:
        if row_type == "e":
            edges.append(GraphEdge(a, b, text))
        elif a == root_id or visible.registered_model(model_id, team_id):
            nodes[a] = GraphNode(a, text, key, label, distance, bool(has_more))
        else:
            # The picture shows that something is there, never what it is.
            nodes[a] = GraphNode(a, HIDDEN, "", "Hidden", distance, False)
    return nodes, edges


def lineage_closure(
    *,
    user: User | None,
    root: LineageNode,
    direction: str = Direction.UPSTREAM,
    depth: int = 10,
    visible: Visibility | None = None,
) -> LineageGraph:
    """Everything ``root`` was made from (upstream), everything made from it (downstream), or
    both, up to ``depth`` hops, as nodes and edges. Nodes ``user`` may not view are returned
    as anonymous hidden nodes. The caller has already checked that ``user`` may view
    ``root``. ``visible`` replaces ``user``'s view with another one (a team's, for documents)."""
    if direction not in Direction.values:
        raise InvalidInput(
            "direction must be upstream, downstream or both.",
            field_errors={"direction": ["One of upstream, downstream, both."]},
        )
    graph = LineageGraph(root=root.pk, direction=direction, depth=depth)
    visible = visible or Visibility(user)
    if direction == Direction.UPSTREAM:
        nodes, edges = _walk(root, UPSTREAM_SQL, depth, visible)
    elif direction == Direction.DOWNSTREAM:
        nodes, edges = _walk(root, DOWNSTREAM_SQL, depth, visible)
    else:
        nodes, up_edges = _walk(root, UPSTREAM_SQL, depth, visible)
        down_nodes, down_edges = _walk(root, DOWNSTREAM_SQL, depth, visible)
        for node_id, node in down_nodes.items():
            if node_id not in nodes:
                nodes[node_id] = node
            elif node.has_more:
                nodes[node_id] = node._replace(depth=nodes[node_id].depth)
        # In a DAG the two halves share no edge; de-duplicate in case a cycle was recorded.
        edges = list(dict.fromkeys(up_edges + down_edges))
    graph.nodes = sorted(nodes.values(), key=_node_order)
    edges.sort()
    graph.edges = edges
    return graph


def _node_order(node: GraphNode) -> tuple[int, str, str]:
    return (node.depth, node.kind, node.key)


def lineage_node_of(obj) -> LineageNode:
    """The lineage node of a registry object (every one gets a node when it is created)."""
    spec = lineage_kind_of(obj)
    return LineageNode.objects.get(kind=spec.kind, object_id=obj.pk)


# --- Catalogues and lookups by natural key (the pages; the API looks up by the same rules) ---

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
    may see, ``registered_model_list``), by name, with their last activity."""
    return _with_last_activity(filters.qs).order_by("name")


def dataset_catalogue(filters: DatasetFilter) -> QuerySet[Dataset]:
    """The dataset catalogue: the datasets ``filters`` kept, by name, with their last
    activity."""
    return _with_last_activity(filters.qs).order_by("name")


def registered_model_get(user: User, name: str) -> RegisteredModel:
    _require_name(name, "model")
    model = registered_model_list(user).filter(name=name).first()
    if model is None:
        raise NotFound(f"There is no model named '{name}'.")
    return model


def model_versions_of(user: User, model: RegisteredModel) -> QuerySet[ModelVersion]:
    return model_version_list(user).filter(registered_model=model).order_by("-version")


def model_version_get(user: User, name: str, version: int) -> ModelVersion:
    _require_name(name, "model")
    found = model_version_list(user).filter(registered_model__name=name, version=version).first()
    if found is None:
        raise NotFound(f"Model '{name}' has no version {version}.")
    return found


def dataset_get(user: User, name: str) -> Dataset:
    _require_name(name, "dataset")
    dataset = dataset_list(user).filter(name=name).first()
    if dataset is None:
        raise NotFound(f"There is no dataset named '{name}'.")
    return dataset


def dataset_versions_of(user: User, dataset: Dataset) -> QuerySet[DatasetVersion]:
    return dataset_version_list(user).filter(dataset=dataset).order_by("-version")


def dataset_version_get(user: User, name: str, version: int) -> DatasetVersion:
    _require_name(name, "dataset")
    found = dataset_version_list(user).filter(dataset__name=name, version=version).first()
    if found is None:
        raise NotFound(f"Dataset '{name}' has no version {version}.")
    return found


def dataset_version_usage(user: User, dataset_version: DatasetVersion) -> dict[str, QuerySet]:
    """What was made from a dataset version that the user may see: model versions (with the
    role it played), runs that read it, and dataset versions derived from it."""
    return {
        "model_links": ModelVersionDataset.objects.filter(
            dataset_version=dataset_version,
            model_version__in=model_version_list(user).values("pk"),
        )
        .select_related("model_version__registered_model", "model_version__registered_by")
        .order_by("model_version__registered_model__name", "-model_version__version", "role"),
        "run_links": dataset_version.run_input_links.filter(run__in=run_list(user).values("pk"))
        .select_related("run", "run__team")
        .order_by("-run__created_at"),
        "derivatives": dataset_version_list(user)
        .filter(derived_from=dataset_version)
        .order_by("dataset__name", "version"),
    }


def run_get(user: User, run_uuid: uuid.UUID | str) -> Run:
    found = run_list(user).filter(uuid=run_uuid).first()
    if found is None:
        raise NotFound(f"There is no run {run_uuid}.")
    return found


def run_outputs(user: User, run: Run) -> dict[str, QuerySet]:
    return {
        "dataset_versions": dataset_version_list(user)
        .filter(produced_by_run=run)
        .order_by("dataset__name", "version"),
        "model_versions": model_version_list(user)
        .filter(run=run)
        .order_by("registered_model__name", "version"),
    }


def run_catalogue(filters: RunFilter) -> QuerySet[Run]:
    """The runs ``filters`` kept (bound to the runs the user may see), newest first."""
    return filters.qs.order_by("-created_at", "-pk")
