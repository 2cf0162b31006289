"""Monitoring's list filters: one FilterSet per list, read by the REST API
(``filterset_class``) and by the dashboard (``core.filters.page_filterset``), under the same
names on both faces."""

from __future__ import annotations

import django_filters
from django import forms

from core.filters import (
    MomentFilter,
    StewardFilterSet,
    StrictBooleanFilter,
    TextFilter,
    choice_error,
)
from monitoring.choices import (
    AlertState,
    CheckKind,
    DeploymentMode,
    DeploymentStatus,
    Environment,
    Severity,
)
from monitoring.models import Alert, CheckResult, Deployment, Prediction


class DeploymentFilter(StewardFilterSet):
    environment = django_filters.ChoiceFilter(
        choices=Environment.choices,
        empty_label="Any",
        error_messages=choice_error("environment"),
        widget=forms.Select(attrs={"data-testid": "environment-filter"}),
    )
    mode = django_filters.ChoiceFilter(
        choices=DeploymentMode.choices, empty_label="Any", error_messages=choice_error("mode")
    )
    status = django_filters.ChoiceFilter(
        choices=DeploymentStatus.choices, empty_label="Any", error_messages=choice_error("status")
    )
    model = TextFilter(field_name="model_version__registered_model__name", label="Model name")
    retired = StrictBooleanFilter(
        method="filter_retired",
        label="Show retired deployments",
        help_text="false: active deployments only; true or absent: retired ones too.",
    )

    page_fields = ("environment", "retired")
    # The dashboard's box: unticked (absent from the query) means active deployments only.
    page_widgets = {
        "retired": lambda: forms.CheckboxInput(
            attrs={"value": "1", "data-testid": "retired-filter"}
        )
    }

    class Meta:
        model = Deployment
        fields = ["environment", "mode", "status", "model", "retired"]

    def filter_retired(self, queryset, name, value):
        return queryset if value else queryset.filter(status=DeploymentStatus.ACTIVE)


class AlertFilter(StewardFilterSet):
    state = django_filters.ChoiceFilter(
        choices=AlertState.choices, empty_label="Any", error_messages=choice_error("state")
    )
    severity = django_filters.ChoiceFilter(
        choices=Severity.choices, empty_label="Any", error_messages=choice_error("severity")
    )
    deployment = TextFilter(field_name="deployment__name", label="Deployment name")

    class Meta:
        model = Alert
        fields = ["state", "severity", "deployment"]


class PredictionFilter(StewardFilterSet):
    """A deployment's logged predictions."""

    since = MomentFilter(field_name="predicted_at", label="Predicted at or after (ISO 8601).")
    until = MomentFilter(
        field_name="predicted_at", end_of_day=True, label="Predicted before (ISO 8601)."
    )
    request_id = TextFilter()
    labelled = StrictBooleanFilter(
        method="filter_labelled",
        label="true: only those with ground truth; false: only without.",
    )

    class Meta:
        model = Prediction
        fields = ["since", "until", "request_id", "labelled"]

    def filter_labelled(self, queryset, name, value):
        return queryset.filter(ground_truth__isnull=not value)


class CheckResultFilter(StewardFilterSet):
    """A deployment's check results, by the end of the window they judged."""

    kind = django_filters.ChoiceFilter(
        choices=CheckKind.choices, empty_label="Any", error_messages=choice_error("check kind")
    )
    since = MomentFilter(field_name="window_end", label="Window ending at or after (ISO 8601).")
    until = MomentFilter(
        field_name="window_end", end_of_day=True, label="Window ending before (ISO 8601)."
    )

    class Meta:
        model = CheckResult
        fields = ["kind", "since", "until"]
