"""Runs: the training, transformation and evaluation jobs that turn data into data or models."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from accounts.access import GovernedQuerySet
from core.models import TimeStampedModel
from registry.choices import DatasetRole, RunKind, RunStatus
from registry.models.provenance import CodeAndEnvironment


class Run(CodeAndEnvironment, TimeStampedModel):
    """A job that read dataset versions and produced dataset or model versions."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=16, choices=RunKind.choices, db_index=True)
    status = models.CharField(
        max_length=16, choices=RunStatus.choices, default=RunStatus.COMPLETED, db_index=True
    )
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="runs")
    params = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    inputs = models.ManyToManyField(
        "registry.DatasetVersion", through="RunInput", related_name="consumed_by_runs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="runs"
    )

    objects = GovernedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        permissions = [("annotate_run", "Can annotate the run")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} run {self.name or str(self.uuid)[:8]}"


class RunInput(models.Model):
    """A dataset version a run read, and in which role."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="input_links")
    dataset_version = models.ForeignKey(
        "registry.DatasetVersion", on_delete=models.PROTECT, related_name="run_input_links"
    )
    role = models.CharField(max_length=16, choices=DatasetRole.choices, default=DatasetRole.INPUT)

    class Meta:
        ordering = ["role", "dataset_version_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "dataset_version", "role"], name="unique_run_input_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.run} {self.role} {self.dataset_version}"
