"""What the registry's API shows of a model or a version, read in one query per page.

A version's data links and aliases, and a model's tags, aliases and version counts, are read
as correlated subqueries of the page's own query (each a JSON array, PostgreSQL's ``json_agg``
or SQLite's ``json_group_array``) instead of one prefetch query each: a GET of a version or a
model is then one query after authentication, and a page of a hundred models costs no Python
per row beyond decoding its arrays (``prefetch_related`` built a queryset per row and
relation, most of a prefix search's time).

The rows are exactly those of the relations: the serializers read ``api_links``,
``api_aliases`` and ``api_tags`` when a selector here set them, and the relations otherwise.
"""

from __future__ import annotations

import json
from functools import cache
from typing import NamedTuple

from django.db.models import (
    Aggregate,
    Count,
    F,
    IntegerField,
    Max,
    OuterRef,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce, JSONArray

from core.api.pagination import TotalInPagePaginator, total_rows
from core.precompiled import PrecompiledGet, PrecompiledPage
from registry.models import ModelAlias, ModelVersion, ModelVersionDataset, RegisteredModel


class JSONRows(Aggregate):
    """The rows' values as the text of one JSON array (NULL for no rows)."""

    function = "JSON_GROUP_ARRAY"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            function="JSON_AGG",
            template="%(function)s(%(expressions)s)::text",
            **extra_context,
        )


def _rows_of(related: QuerySet, owner: str, value) -> Subquery:
    """``value`` of each row of ``related`` whose ``owner`` is the outer row, as JSON text."""
    return Subquery(
        related.filter(**{owner: OuterRef("pk")})
        .order_by()
        .values(owner)
        .annotate(rows=JSONRows(value))
        .values("rows"),
        output_field=TextField(),
    )


def _decoded(text: str | None) -> list:
    return json.loads(text) if text else []


class LinkRow(NamedTuple):
    """A dataset version a model version used, as the API names it, with the team that owns
    its dataset (what decides whether the caller may see it)."""

    dataset: str
    version: int
    role: str
    owner_team_id: int | None
    dataset_version_id: int


def _link_value() -> JSONArray:
    return JSONArray(
        F("dataset_version__dataset__name"),
        F("dataset_version__version"),
        F("role"),
        F("dataset_version__dataset__owner_team_id"),
        F("dataset_version_id"),
    )


def _link_rows(text: str | None) -> list[LinkRow]:
    rows = [LinkRow(*row) for row in _decoded(text)]
    rows.sort(key=lambda row: (row.role, row.dataset_version_id))  # ModelVersionDataset.Meta
    return rows


def model_versions_answer() -> QuerySet[ModelVersion]:
    """Every version (unrestricted: the caller restricts it) with what
    ``ModelVersionSerializer`` shows: only the columns it names of the linked rows, and the
    data links and alias names in the same query (see :func:`version_links` and
    :func:`version_aliases`)."""
    return _model_versions_answer().all()


@cache
def _model_versions_answer() -> QuerySet[ModelVersion]:
    # Built once per process and cloned per request: resolving the subqueries and the
    # select_related/only tree cost a fifth of a version GET. Never evaluated itself.
    return (
        ModelVersion.objects.select_related(
            "registered_model", "registered_by", "run", "derived_from__registered_model"
        )
        .only(
            *(field.name for field in ModelVersion._meta.concrete_fields if not field.is_relation),
            *("registered_model", "registered_by", "run", "derived_from", "artifact"),
            "registered_model__name",
            "registered_model__owner_team_id",
            "registered_by__username",
            "run__uuid",
            "run__team_id",
            "derived_from__version",
            "derived_from__registered_model__name",
            "derived_from__registered_model__owner_team_id",
        )
        .annotate(
            api_link_rows=_rows_of(
                ModelVersionDataset.objects.all(), "model_version", _link_value()
            ),
            api_alias_rows=_rows_of(ModelAlias.objects.all(), "version", F("name")),
        )
    )


# One version or one model by its natural key, as the answers above read it, compiled once per
# connection (see core.precompiled): unrestricted, the callers ask ``may`` of the row.
model_version_answer_get = PrecompiledGet(
    _model_versions_answer, registered_model__name=str, version=int
)
# The versions of one model, newest first, a page at a time with the total on each row (the
# API's list of a model's versions when it is asked for no filter and no other order).
model_version_page_get = PrecompiledPage(
    lambda: (
        _model_versions_answer()
        .order_by("-version")
        .annotate(**{TotalInPagePaginator.TOTAL: total_rows()})
    ),
    registered_model_id=int,
)


def model_version_links_read(version: ModelVersion) -> None:
    """The data links of one version already in hand (just registered), for
    :func:`version_links`: one small query."""
    rows = (
        ModelVersionDataset.objects.filter(model_version=version)
        .order_by()
        .values("model_version")
        .annotate(rows=JSONRows(_link_value()))
        .values_list("rows", flat=True)
    )
    version.api_link_rows = next(iter(rows), None)


def version_links(version: ModelVersion) -> list[LinkRow]:
    """The version's data links in the relation's order: from the rows read with it, else
    from ``dataset_links``."""
    if hasattr(version, "api_link_rows"):
        return _link_rows(version.api_link_rows)
    return [
        LinkRow(
            link.dataset_version.dataset.name,
            link.dataset_version.version,
            link.role,
            link.dataset_version.dataset.owner_team_id,
            link.dataset_version_id,
        )
        for link in version.dataset_links.all()
    ]


def version_aliases(version: ModelVersion) -> list[str]:
    """The names of the version's aliases, by name."""
    if hasattr(version, "api_alias_rows"):
        return sorted(_decoded(version.api_alias_rows))
    return [alias.name for alias in version.aliases.all()]


def registered_models_answer() -> QuerySet[RegisteredModel]:
    """Every model (unrestricted: the caller restricts it) with what
    ``RegisteredModelSerializer`` shows: only the team's and the creator's columns it names,
    and the version count, latest version number, tag names and aliases (name and version
    number) in the same query (see :func:`model_tags` and :func:`model_alias_pairs`). Counted
    by subqueries, not a join and GROUP BY over every version, so that a page's count stays a
    plain count of models."""
    return _registered_models_answer().all()


@cache
def _registered_models_answer() -> QuerySet[RegisteredModel]:
    # Built once per process, cloned per request (as _model_versions_answer).
    qs = RegisteredModel.objects.select_related("owner_team", "created_by").only(
        *(field.name for field in RegisteredModel._meta.concrete_fields),
        "owner_team__slug",
        "created_by__username",
    )
    versions = ModelVersion.objects.filter(registered_model=OuterRef("pk")).order_by()
    tag_links = RegisteredModel.tags.through.objects.all()
    return qs.annotate(
        version_count=Coalesce(
            Subquery(
                versions.values("registered_model").annotate(n=Count("*")).values("n"),
                output_field=IntegerField(),
            ),
            Value(0),
        ),
        latest_version=Subquery(
            versions.values("registered_model").annotate(n=Max("version")).values("n"),
            output_field=IntegerField(),
        ),
        api_tag_rows=_rows_of(tag_links, "registeredmodel", F("tag__name")),
        api_alias_rows=_rows_of(
            ModelAlias.objects.all(),
            "registered_model",
            JSONArray(F("name"), F("version__version")),
        ),
    )


def model_tags(model: RegisteredModel) -> list[str]:
    """The names of the model's tags, by name."""
    if hasattr(model, "api_tag_rows"):
        return sorted(_decoded(model.api_tag_rows))
    return [tag.name for tag in model.tags.all()]


def model_alias_pairs(model: RegisteredModel) -> list[tuple[str, int]]:
    """The model's aliases as (name, version number), by name."""
    if hasattr(model, "api_alias_rows"):
        return sorted((name, number) for name, number in _decoded(model.api_alias_rows))
    return [(alias.name, alias.version.version) for alias in model.aliases.all()]


registered_model_answer_get = PrecompiledGet(_registered_models_answer, name=str)
registered_model_bare_get = PrecompiledGet(
    lambda: RegisteredModel.objects.select_related("owner_team"), name=str
)
