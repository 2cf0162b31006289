"""Datasets and their versions: where data came from, who changed it and how."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.access import GovernedQuerySet
from core.models import TimeStampedModel
from registry.validators import validate_name, validate_sha256


class Dataset(TimeStampedModel):
    """A named, versioned collection of data owned by a team."""

    name = models.CharField(max_length=128, unique=True, validators=[validate_name])
    description = models.TextField(blank=True)
    owner_team = models.ForeignKey(
        "accounts.Team", on_delete=models.PROTECT, related_name="datasets"
    )
    tags = models.ManyToManyField("registry.Tag", blank=True, related_name="datasets")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    objects = GovernedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        permissions = [("annotate_dataset", "Can annotate the dataset and its versions")]

    def __str__(self) -> str:
        return self.name


class DatasetVersion(TimeStampedModel):
    """One immutable state of a dataset: its location, content hash, shape and schema, and where
    it came from (the run that produced it and the versions it was derived from)."""

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    description = models.TextField(blank=True, help_text="What changed and why.")
    uri = models.CharField(max_length=1000)
    content_hash = models.CharField(max_length=64, validators=[validate_sha256])
    size_bytes = models.BigIntegerField(null=True, blank=True)
    row_count = models.BigIntegerField(null=True, blank=True)
    schema = models.JSONField(default=dict, blank=True)
    profile = models.JSONField(default=dict, blank=True)
    produced_by_run = models.ForeignKey(
        "registry.Run",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="output_datasets",
    )
    derived_from = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="derivatives"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    objects = GovernedQuerySet.as_manager()

    class Meta:
        ordering = ["dataset__name", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "version"], name="unique_dataset_version_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dataset.name} v{self.version}"

    @property
    def natural_key(self) -> str:
        return f"{self.dataset.name}/{self.version}"
