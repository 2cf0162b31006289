"""Baselines, check results (a time series per deployment and kind) and KPIs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.access import GovernedQuerySet
from monitoring.choices import (
    BaselineSource,
    CheckKind,
    CheckStatus,
    CheckTrigger,
    KpiDirection,
    KpiSource,
)


class BaselineProfile(models.Model):
    """What a version's inputs and outputs looked like in its reference data, profiled once
    (quantiles, bins, category frequencies; see ``monitoring.stats``) and reused by every drift
    check: no check reads raw reference rows again. The newest one of a version is current."""

    model_version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.PROTECT, related_name="baselines"
    )
    source = models.CharField(max_length=32, choices=BaselineSource.choices)
    dataset_version = models.ForeignKey(
        "registry.DatasetVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source_label = models.CharField(max_length=300, blank=True)
    content_sha256 = models.CharField(max_length=64, help_text="Hash of the reference data.")
    row_count = models.PositiveIntegerField()
    inputs = models.JSONField(help_text="Profile of the input features.")
    outputs = models.JSONField(default=dict, help_text="Profile of the outputs.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = GovernedQuerySet.as_manager()

    class Meta:
        ordering = ["model_version_id", "-created_at", "-id"]
        get_latest_by = "created_at"

    def __str__(self) -> str:
        return f"Baseline of {self.model_version} ({self.get_source_display()})"


class CheckResult(models.Model):
    """One check of one deployment over one window of its predictions. Unique per
    (deployment, kind, window), so a retried task finds its result instead of adding another."""

    deployment = models.ForeignKey(
        "monitoring.Deployment", on_delete=models.PROTECT, related_name="check_results"
    )
    kind = models.CharField(max_length=32, choices=CheckKind.choices)
    status = models.CharField(max_length=16, choices=CheckStatus.choices)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    row_count = models.PositiveIntegerField(default=0)
    score = models.FloatField(
        null=True, blank=True, help_text="The headline number (drifted share, AUC, health...)."
    )
    summary = models.CharField(max_length=500, blank=True)
    details = models.JSONField(default=dict)
    baseline = models.ForeignKey(
        BaselineProfile, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    trigger = models.CharField(max_length=16, choices=CheckTrigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = GovernedQuerySet.as_manager()

    class Meta:
        ordering = ["-window_end", "kind"]
        get_latest_by = "window_end"
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "kind", "window_start", "window_end"],
                name="unique_check_window",
            )
        ]
        indexes = [models.Index(fields=["deployment", "kind", "window_end"], name="check_series")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.deployment_id}: {self.status}"


class Kpi(models.Model):
    """A key performance indicator with thresholds and a direction, for one deployment or for
    every deployment of one model."""

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    deployment = models.ForeignKey(
        "monitoring.Deployment",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="kpis",
    )
    registered_model = models.ForeignKey(
        "registry.RegisteredModel",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="kpis",
    )
    source = models.CharField(max_length=16, choices=KpiSource.choices, default=KpiSource.REPORTED)
    metric = models.CharField(
        max_length=100,
        blank=True,
        help_text="For check metrics: '<check kind>.<metric>', e.g. performance.auc.",
    )
    direction = models.CharField(max_length=20, choices=KpiDirection.choices)
    warning_threshold = models.FloatField(null=True, blank=True)
    critical_threshold = models.FloatField(null=True, blank=True)
    unit = models.CharField(max_length=20, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = GovernedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(deployment__isnull=True) ^ Q(registered_model__isnull=True),
                name="kpi_for_deployment_xor_model",
            )
        ]

    def __str__(self) -> str:
        return self.name


class KpiValue(models.Model):
    """One measurement of a KPI for one deployment, judged against the KPI's thresholds when
    it was recorded."""

    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="values")
    deployment = models.ForeignKey(
        "monitoring.Deployment", on_delete=models.PROTECT, related_name="kpi_values"
    )
    value = models.FloatField()
    measured_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=CheckStatus.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = GovernedQuerySet.as_manager()

    class Meta:
        ordering = ["-measured_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "deployment", "measured_at"], name="unique_kpi_measurement"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kpi} = {self.value}"
