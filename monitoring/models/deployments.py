"""Deployments: a model version placed in an environment, in a mode."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from accounts.access import GovernedQuerySet
from core.models import TimeStampedModel
from monitoring.choices import DeploymentMode, DeploymentStatus, Environment


class Deployment(TimeStampedModel):
    """One model version serving in one environment and mode. A deployment never changes its
    version: replacing a version is a new deployment that records the one it ``replaces``, and
    the old one is retired with who, when and why."""

    name = models.SlugField(max_length=100, unique=True)
    model_version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.PROTECT, related_name="deployments"
    )
    environment = models.CharField(max_length=16, choices=Environment.choices, db_index=True)
    mode = models.CharField(max_length=16, choices=DeploymentMode.choices)
    traffic_percent = models.PositiveSmallIntegerField(
        default=100,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Share of the traffic this deployment answers: 0 for warm-up and shadow, "
        "1-99 for a canary, 100 when live.",
    )
    endpoint_url = models.CharField(
        max_length=500, blank=True, help_text="Where it serves; shown, never fetched."
    )
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=16,
        choices=DeploymentStatus.choices,
        default=DeploymentStatus.ACTIVE,
        db_index=True,
    )
    deployed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    deployed_at = models.DateTimeField(default=timezone.now)
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    retired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_reason = models.TextField(blank=True)
    check_window_hours = models.PositiveIntegerField(
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 90)],
        help_text="How far back a scheduled check looks.",
    )
    retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Days its predictions are kept; empty for the global "
        "STEWARD_PREDICTION_RETENTION_DAYS (and kept forever when that is unset too).",
    )
    # A legal hold keeps every prediction of the deployment, whatever the retention says; set
    # and released only through monitoring.services.retention.deployment_legal_hold_set.
    legal_hold = models.BooleanField(default=False, editable=False)
    legal_hold_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    legal_hold_at = models.DateTimeField(null=True, blank=True, editable=False)
    legal_hold_reason = models.TextField(blank=True, editable=False)

    objects = GovernedQuerySet.as_manager()

    class Meta:
        ordering = ["-deployed_at", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def registered_model(self):
        return self.model_version.registered_model

    @property
    def is_active(self) -> bool:
        return self.status == DeploymentStatus.ACTIVE
