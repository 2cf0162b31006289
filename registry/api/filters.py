"""Query-string filters of the registry's list endpoints."""

from __future__ import annotations

import django_filters

from registry.choices import DatasetRole, RiskTier, RunKind, RunStatus, VersionStatus
from registry.models import Dataset, DatasetVersion, ModelVersion, RegisteredModel, Run


class RegisteredModelFilter(django_filters.FilterSet):
    name__startswith = django_filters.CharFilter(
        field_name="name", lookup_expr="startswith", label="Names beginning with this prefix"
    )
    risk_tier = django_filters.ChoiceFilter(choices=RiskTier.choices)
    owner_team = django_filters.CharFilter(field_name="owner_team__slug")
    tag = django_filters.CharFilter(field_name="tags__name", distinct=True)

    class Meta:
        model = RegisteredModel
        fields = ["name__startswith", "risk_tier", "owner_team", "tag"]


class ModelVersionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=VersionStatus.choices)
    framework = django_filters.CharFilter()
    registered_by = django_filters.CharFilter(field_name="registered_by__username")
    trained_on = django_filters.CharFilter(
        field_name="dataset_links__dataset_version__dataset__name",
        distinct=True,
        label="Name of a dataset the version was trained, validated or tested on",
    )

    class Meta:
        model = ModelVersion
        fields = ["status", "framework", "registered_by", "trained_on"]


class DatasetFilter(django_filters.FilterSet):
    owner_team = django_filters.CharFilter(field_name="owner_team__slug")
    tag = django_filters.CharFilter(field_name="tags__name", distinct=True)

    class Meta:
        model = Dataset
        fields = ["owner_team", "tag"]


class DatasetVersionFilter(django_filters.FilterSet):
    content_hash = django_filters.CharFilter()

    class Meta:
        model = DatasetVersion
        fields = ["content_hash"]


class RunFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=RunKind.choices)
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)
    team = django_filters.CharFilter(field_name="team__slug")
    input_role = django_filters.ChoiceFilter(
        field_name="input_links__role", choices=DatasetRole.choices, distinct=True
    )

    class Meta:
        model = Run
        fields = ["kind", "status", "team", "input_role"]
