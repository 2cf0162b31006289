"""The registry's list filters: one FilterSet per list, read by the REST API
(``filterset_class``) and by the catalogue pages (``core.filters.page_filterset``), so a
parameter has one name and one meaning on both faces.

``search`` matches each word of the text in a name, a description or a tag name (runs: a name,
notes, or the run's id pasted whole). Tags are matched through ``Exists`` so that a row with two
matching tags is listed once and no DISTINCT is needed."""

from __future__ import annotations

import contextlib
import uuid

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import Team
from core.filters import StewardFilterSet, TextFilter, choice_error, search_box
from registry.choices import DatasetRole, RiskTier, RunKind, RunStatus, VersionStatus
from registry.models import Dataset, DatasetVersion, ModelVersion, RegisteredModel, Run, Tag


def _words(value: str) -> list[str]:
    return value.split()


def _catalogue_search(queryset: QuerySet, value: str, tag_model_field: str) -> QuerySet:
    """Rows whose name, description or a tag contains every word of ``value``."""
    for word in _words(value):
        tagged = Tag.objects.filter(**{tag_model_field: OuterRef("pk")}, name__icontains=word)
        queryset = queryset.filter(
            Q(name__icontains=word) | Q(description__icontains=word) | Q(Exists(tagged))
        )
    return queryset


def _tagged(queryset: QuerySet, value: str, tag_model_field: str) -> QuerySet:
    tagged = Tag.objects.filter(**{tag_model_field: OuterRef("pk")}, name=value.lower())
    return queryset.filter(Exists(tagged))


def _visible_teams(queryset: QuerySet, team_field: str) -> list[tuple[str, str]]:
    """The teams that some row of ``queryset`` (what the user may see) belongs to."""
    teams = Team.objects.filter(pk__in=queryset.order_by().values(team_field)).order_by("name")
    return [(team.slug, team.name) for team in teams]


class RegisteredModelFilter(StewardFilterSet):
    search = TextFilter(
        method="filter_search", label="Search", widget=search_box("Name, description or tag")
    )
    name__startswith = TextFilter(
        field_name="name", lookup_expr="startswith", label="Names beginning with this prefix"
    )
    risk_tier = django_filters.ChoiceFilter(
        choices=RiskTier.choices, empty_label="Any", error_messages=choice_error("risk tier")
    )
    owner_team = TextFilter(field_name="owner_team__slug", label="Owner team")
    tag = TextFilter(method="filter_tag", label="Tag")

    page_fields = ("search", "risk_tier", "owner_team", "tag")

    class Meta:
        model = RegisteredModel
        fields = ["search", "name__startswith", "risk_tier", "owner_team", "tag"]

    def filter_search(self, queryset, name, value):
        return _catalogue_search(queryset, value, "registered_models")

    def filter_tag(self, queryset, name, value):
        return _tagged(queryset, value, "registered_models")

    def page_menus(self):
        visible = self.queryset.order_by().values("pk")
        tags = Tag.objects.filter(registered_models__in=visible).distinct().order_by("name")
        return {
            "owner_team": _visible_teams(self.queryset, "owner_team"),
            "tag": [(tag.name, tag.name) for tag in tags],
        }


class ModelVersionFilter(StewardFilterSet):
    status = django_filters.ChoiceFilter(
        choices=VersionStatus.choices, empty_label="Any", error_messages=choice_error("status")
    )
    framework = TextFilter()
    registered_by = TextFilter(field_name="registered_by__username")
    trained_on = TextFilter(
        field_name="dataset_links__dataset_version__dataset__name",
        distinct=True,
        label="Name of a dataset the version was trained, validated or tested on",
    )

    class Meta:
        model = ModelVersion
        fields = ["status", "framework", "registered_by", "trained_on"]


class DatasetFilter(StewardFilterSet):
    search = TextFilter(
        method="filter_search", label="Search", widget=search_box("Name, description or tag")
    )
    owner_team = TextFilter(field_name="owner_team__slug", label="Owner team")
    tag = TextFilter(method="filter_tag", label="Tag")

    page_fields = ("search",)

    class Meta:
        model = Dataset
        fields = ["search", "owner_team", "tag"]

    def filter_search(self, queryset, name, value):
        return _catalogue_search(queryset, value, "datasets")

    def filter_tag(self, queryset, name, value):
        return _tagged(queryset, value, "datasets")


class DatasetVersionFilter(StewardFilterSet):
    content_hash = TextFilter()

    class Meta:
        model = DatasetVersion
        fields = ["content_hash"]


class RunFilter(StewardFilterSet):
    search = TextFilter(
        method="filter_search", label="Search", widget=search_box("Name, notes or run id")
    )
    team = TextFilter(field_name="team__slug", label="Team")
    kind = django_filters.ChoiceFilter(
        choices=RunKind.choices, empty_label="Any", error_messages=choice_error("run kind")
    )
    status = django_filters.ChoiceFilter(
        choices=RunStatus.choices, empty_label="Any", error_messages=choice_error("run status")
    )
    input_role = django_filters.ChoiceFilter(
        field_name="input_links__role",
        choices=DatasetRole.choices,
        distinct=True,
        empty_label="Any",
        error_messages=choice_error("input role"),
    )

    page_fields = ("search", "team", "kind", "status")

    class Meta:
        model = Run
        fields = ["search", "kind", "status", "team", "input_role"]

    def filter_search(self, queryset, name, value):
        """Each word in the name or the notes; or the run's id, pasted whole."""
        match = Q()
        for word in _words(value):
            match &= Q(name__icontains=word) | Q(notes__icontains=word)
        with contextlib.suppress(ValueError):
            match |= Q(uuid=uuid.UUID(value))
        return queryset.filter(match)

    def page_menus(self):
        return {"team": _visible_teams(self.queryset, "team")}
