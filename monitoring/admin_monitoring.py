"""Deployments, the prediction log, baselines, check results and KPIs in the admin console.

Deployments, predictions, baselines and results are records of what happened and are read-only
here (deploying and retiring go through the API and pages, which ask the workflow's gate).
KPIs are defined here through the KPI service, which checks the thresholds and permissions."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction

from core.admin import ReadOnlyAdmin
from core.errors import StewardError
from monitoring.models import BaselineProfile, CheckResult, Deployment, Kpi, KpiValue, Prediction
from monitoring.services.checks import checks_request
from monitoring.services.kpis import kpi_create


@admin.register(Deployment)
class DeploymentAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "model_version",
        "environment",
        "mode",
        "traffic_percent",
        "status",
        "deployed_by",
        "deployed_at",
    ]
    list_filter = ["environment", "mode", "status"]
    search_fields = ["name", "model_version__registered_model__name"]
    actions = ["run_checks_now"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("model_version__registered_model", "deployed_by")
        )

    @admin.action(description="Run every check now")
    def run_checks_now(self, request, queryset):
        for deployment in queryset:
            try:
                checks_request(actor=request.user, deployment=deployment)
            except StewardError as exc:
                self.message_user(request, f"{deployment}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{deployment}: checks queued.")


@admin.register(Prediction)
class PredictionAdmin(ReadOnlyAdmin):
    list_display = ["request_id", "deployment", "predicted_at", "latency_ms", "ground_truth"]
    list_filter = ["deployment"]
    search_fields = ["request_id"]
    date_hierarchy = "predicted_at"
    list_select_related = ["deployment"]
    show_full_result_count = False  # the log is large; counting it on every page is not free


@admin.register(BaselineProfile)
class BaselineProfileAdmin(ReadOnlyAdmin):
    list_display = ["model_version", "source", "source_label", "row_count", "created_at"]
    list_filter = ["source"]
    list_select_related = ["model_version__registered_model"]


@admin.register(CheckResult)
class CheckResultAdmin(ReadOnlyAdmin):
    list_display = ["deployment", "kind", "status", "score", "summary", "window_end", "trigger"]
    list_filter = ["kind", "status", "trigger", "deployment"]
    list_select_related = ["deployment"]
    date_hierarchy = "window_end"


class KpiValueInline(admin.TabularInline):
    model = KpiValue
    extra = 0
    can_delete = False
    fields = ["deployment", "value", "status", "measured_at", "recorded_by"]
    readonly_fields = fields
    ordering = ["-measured_at"]
    max_num = 0


KPI_FIELDS = (
    "name",
    "direction",
    "deployment",
    "registered_model",
    "source",
    "metric",
    "warning_threshold",
    "critical_threshold",
    "unit",
    "description",
)


class KpiForm(forms.ModelForm):
    """Asks the KPI service's questions (thresholds, metric, who may) before saving, so that a
    refusal is a form error and not a failed request."""

    class Meta:
        model = Kpi
        fields = KPI_FIELDS

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        data = {f: cleaned.get(f) for f in KPI_FIELDS}
        try:
            with transaction.atomic():
                kpi_create(actor=self.request_user, **data)
                transaction.set_rollback(True)  # a dry run: the real save is save_model's
        except StewardError as exc:
            for field, problems in (exc.field_errors or {}).items():
                if field in self.fields:
                    self.add_error(field, problems)
            raise forms.ValidationError(str(exc)) from None
        return cleaned


@admin.register(Kpi)
class KpiAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "deployment",
        "registered_model",
        "source",
        "metric",
        "direction",
        "warning_threshold",
        "critical_threshold",
    ]
    list_filter = ["source", "direction"]
    inlines = [KpiValueInline]
    form = KpiForm

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.request_user = request.user
        return form

    def has_change_permission(self, request, obj=None):
        # A KPI's definition is evidence for the values judged under it: define a new one.
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        data = {field: form.cleaned_data.get(field) for field in KPI_FIELDS}
        obj.pk = kpi_create(actor=request.user, **data).pk
