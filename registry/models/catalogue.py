"""Registered models and their versions."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.access import GovernedQuerySet
from core.models import TimeStampedModel
from registry.choices import DatasetRole, RiskTier, VersionStatus
from registry.models.provenance import CodeAndEnvironment
from registry.validators import validate_name, validate_sha256


class Tag(models.Model):
    """A free label on models and datasets (e.g. ``credit``, ``pii``)."""

    name = models.CharField(max_length=64, unique=True, validators=[validate_name])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RegisteredModel(TimeStampedModel):
    """A named model owned by a team, whose versions move through governance."""

    name = models.CharField(max_length=128, unique=True, validators=[validate_name])
    description = models.TextField(blank=True)
    owner_team = models.ForeignKey(
        "accounts.Team", on_delete=models.PROTECT, related_name="registered_models"
    )
    risk_tier = models.CharField(
        max_length=16, choices=RiskTier.choices, default=RiskTier.MEDIUM, db_index=True
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="registered_models")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The highest number of a version deleted (a never-submitted draft, by
    # governance.services.deletion): numbers are never given out twice, so "churn/3" in the
    # audit chain always means the same build.
    highest_deleted_version = models.PositiveIntegerField(default=0, editable=False)

    objects = GovernedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        # Prefix searches (``?name__startswith=``, MLflow's ``name LIKE 'churn%'``) use an
        # index under any collation: PostgreSQL's unique index serves LIKE only under "C".
        # Other databases ignore the operator class (a plain index there).
        indexes = [
            models.Index(
                fields=["name"],
                name="registry_model_name_prefix",
                opclasses=["varchar_pattern_ops"],
            )
        ]
        # With view and change (Django's own), the verbs of accounts.choices.Verb. A version's
        # permissions are its model's.
        permissions = [
            ("submit_registeredmodel", "Can submit versions for validation"),
            ("validate_registeredmodel", "Can validate versions"),
            ("approve_registeredmodel", "Can approve versions for production"),
            ("deploy_registeredmodel", "Can deploy versions"),
            ("annotate_registeredmodel", "Can annotate the model and its versions"),
            ("archive_registeredmodel", "Can archive versions"),
            ("classify_registeredmodel", "Can reclassify the model while under review"),
            ("log_registeredmodel", "Can log predictions, ground truth and KPI values"),
        ]

    def __str__(self) -> str:
        return self.name


class ModelVersion(CodeAndEnvironment, TimeStampedModel):
    """One immutable build of a registered model, with everything needed to trace it: its
    artifact, the run and data that made it, its code and environment, and who registered it.
    Its ``status`` is changed only by the governance transition service."""

    registered_model = models.ForeignKey(
        RegisteredModel, on_delete=models.PROTECT, related_name="versions"
    )
    version = models.PositiveIntegerField()
    status = models.CharField(
        max_length=32, choices=VersionStatus.choices, default=VersionStatus.DRAFT, db_index=True
    )
    description = models.TextField(blank=True)

    artifact = models.ForeignKey(
        "registry.Artifact",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="model_versions",
        help_text="The stored file, when uploaded to Steward.",
    )
    artifact_uri = models.CharField(max_length=1000)
    artifact_sha256 = models.CharField(max_length=64, validators=[validate_sha256])
    artifact_size = models.BigIntegerField(null=True, blank=True)
    framework = models.CharField(max_length=64, blank=True)
    input_schema = models.JSONField(default=dict, blank=True)
    output_schema = models.JSONField(default=dict, blank=True)
    params = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)

    run = models.ForeignKey(
        "registry.Run",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="model_versions",
    )
    derived_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="derivatives"
    )
    datasets = models.ManyToManyField(
        "registry.DatasetVersion", through="ModelVersionDataset", related_name="model_versions"
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="registered_versions"
    )

    objects = GovernedQuerySet.as_manager()

    class Meta:
        ordering = ["registered_model__name", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["registered_model", "version"], name="unique_model_version_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.registered_model.name} v{self.version}"

    @property
    def natural_key(self) -> str:
        return f"{self.registered_model.name}/{self.version}"


class ModelVersionDataset(models.Model):
    """A dataset version a model version was trained, validated or tested on."""

    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="dataset_links"
    )
    dataset_version = models.ForeignKey(
        "registry.DatasetVersion", on_delete=models.PROTECT, related_name="model_version_links"
    )
    role = models.CharField(max_length=16, choices=DatasetRole.choices)

    class Meta:
        ordering = ["role", "dataset_version_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "dataset_version", "role"],
                name="unique_model_version_dataset_role",
            )
        ]

    def __str__(self) -> str:
        return f"{self.model_version} {self.role} {self.dataset_version}"
