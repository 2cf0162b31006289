"""What the MLflow protocol says that Steward's own models have no field for.

An MLflow run *is* a Steward run (``registry.Run``, the same id: MLflow's 32-hex run id is the
run's UUID); its params, latest metric values, code and data inputs live there. These rows keep
the rest: the experiment a run belongs to, MLflow's free key/value tags, the metric history, the
files logged under an artifact root (each one a content-addressed ``registry.Artifact``), MLflow
3's logged models, and the key/value tags of registered models and versions.

Artifact roots are the paths MLflow's artifact proxy serves under ``mlflow-artifacts:/``:
``<experiment id>/<run id>/artifacts`` for a run and ``<experiment id>/models/<model id>/artifacts``
for a logged model. Every file row names its experiment, so whoever may not see the experiment's
team may not list or read the file.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.access import GovernedQuerySet
from core.models import TimeStampedModel


class LifecycleStage(models.TextChoices):
    ACTIVE = "active", "Active"
    DELETED = "deleted", "Deleted"


class LoggedModelStatus(models.TextChoices):
    PENDING = "LOGGED_MODEL_PENDING", "Pending"
    READY = "LOGGED_MODEL_READY", "Ready"
    FAILED = "LOGGED_MODEL_UPLOAD_FAILED", "Upload failed"


class MlflowExperiment(TimeStampedModel):
    """An MLflow experiment: a named folder of runs that belongs to one team (the creator's, or
    the team its ``steward.team`` tag names among the creator's own)."""

    name = models.CharField(max_length=500, unique=True)
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="+")
    lifecycle_stage = models.CharField(
        max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.ACTIVE
    )
    tags = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    objects = GovernedQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class MlflowRun(models.Model):
    """MLflow's view of a Steward run: its experiment, MLflow run name, the ``mlflow.user`` the
    client reported, its lifecycle (MLflow deletes softly) and its key/value tags."""

    run = models.OneToOneField(
        "registry.Run", on_delete=models.CASCADE, primary_key=True, related_name="mlflow"
    )
    experiment = models.ForeignKey(MlflowExperiment, on_delete=models.PROTECT, related_name="runs")
    run_name = models.CharField(max_length=250, blank=True)
    mlflow_user = models.CharField(max_length=256, blank=True)
    lifecycle_stage = models.CharField(
        max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.ACTIVE
    )
    tags = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.experiment_id}/{self.run_id}"


class MlflowMetric(models.Model):
    """One logged value of a metric: MLflow keeps the history (step, time), the Steward run keeps
    the latest value of each key."""

    run = models.ForeignKey("registry.Run", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=250)
    value = models.FloatField()
    timestamp = models.BigIntegerField(help_text="Epoch milliseconds, as the client sent it.")
    step = models.BigIntegerField(default=0)
    model_id = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["run", "key", "step"])]

    def __str__(self) -> str:
        return f"{self.key}={self.value}@{self.step}"


class MlflowLoggedModel(TimeStampedModel):
    """An MLflow 3 logged model (``m-<hex>``): the files ``log_model`` wrote under its own
    artifact root, the run that produced it, its params and tags."""

    model_id = models.CharField(max_length=64, unique=True)
    experiment = models.ForeignKey(
        MlflowExperiment, on_delete=models.PROTECT, related_name="logged_models"
    )
    run = models.ForeignKey(
        "registry.Run", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=250)
    model_type = models.CharField(max_length=100, blank=True)
    status = models.CharField(
        max_length=32, choices=LoggedModelStatus.choices, default=LoggedModelStatus.PENDING
    )
    lifecycle_stage = models.CharField(
        max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.ACTIVE
    )
    params = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return self.model_id


class MlflowArtifactFile(models.Model):
    """A file under an MLflow artifact root: its relative path there and its stored bytes."""

    experiment = models.ForeignKey(
        MlflowExperiment, on_delete=models.PROTECT, related_name="artifact_files"
    )
    root = models.CharField(max_length=300, help_text="<experiment>/<run>/artifacts, ...")
    path = models.CharField(max_length=1000, help_text="Relative to the root, '/'-separated.")
    artifact = models.ForeignKey("registry.Artifact", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["root", "path"], name="mlflow_artifact_file_unique")
        ]
        ordering = ["root", "path"]

    def __str__(self) -> str:
        return f"{self.root}/{self.path}"


class MlflowModelTag(models.Model):
    """A key/value tag MLflow set on a registered model (Steward's own tags are names only)."""

    registered_model = models.ForeignKey(
        "registry.RegisteredModel", on_delete=models.CASCADE, related_name="mlflow_tags"
    )
    key = models.CharField(max_length=250)
    value = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["registered_model", "key"], name="mlflow_model_tag_unique"
            )
        ]
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class MlflowVersionTag(models.Model):
    """A key/value tag MLflow set on a model version."""

    model_version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.CASCADE, related_name="mlflow_tags"
    )
    key = models.CharField(max_length=250)
    value = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "key"], name="mlflow_version_tag_unique"
            )
        ]
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class MlflowVersionSource(models.Model):
    """Where an MLflow-registered version's files came from: the ``source`` the client sent, the
    logged model it names (MLflow 3), and the artifact root its files are served from."""

    model_version = models.OneToOneField(
        "registry.ModelVersion",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="mlflow_source",
    )
    source = models.CharField(max_length=1000)
    logged_model = models.ForeignKey(
        MlflowLoggedModel, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    storage_root = models.CharField(
        max_length=1300, help_text="The artifact path (root + prefix) the version's files are at."
    )

    def __str__(self) -> str:
        return self.source
