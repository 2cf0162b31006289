"""Enumerations of the registry."""

from __future__ import annotations

from django.db import models


class RiskTier(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class VersionStatus(models.TextChoices):
    """States of a model version. The transitions between them belong to governance."""

    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    IN_VALIDATION = "in_validation", "In validation"
    VALIDATED = "validated", "Validated"
    APPROVED = "approved", "Approved"
    PRODUCTION = "production", "Production"
    FLAGGED = "flagged", "Flagged by monitoring"
    DEPRECATED = "deprecated", "Deprecated"
    ARCHIVED = "archived", "Archived"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    REJECTED = "rejected", "Rejected"


class RunKind(models.TextChoices):
    TRAINING = "training", "Training"
    TRANSFORMATION = "transformation", "Transformation"
    EVALUATION = "evaluation", "Evaluation"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class DatasetRole(models.TextChoices):
    """What a dataset version was used for by a run or a model version."""

    TRAIN = "train", "Training"
    VALIDATION = "validation", "Validation"
    TEST = "test", "Test"
    INPUT = "input", "Input"
    REFERENCE = "reference", "Reference"


class LineageKind(models.TextChoices):
    DATASET_VERSION = "dataset_version", "Dataset version"
    RUN = "run", "Run"
    MODEL_VERSION = "model_version", "Model version"
    DEPLOYMENT = "deployment", "Deployment"


class LineageRelation(models.TextChoices):
    """The meaning of an edge; it always points from the older thing to what was made of it."""

    INPUT = "input", "input of"
    TRAIN = "train", "trained"
    VALIDATION = "validation", "validated"
    TEST = "test", "tested"
    REFERENCE = "reference", "reference of"
    PRODUCED = "produced", "produced"
    DERIVED_FROM = "derived_from", "derived into"
    DEPLOYED_AS = "deployed_as", "deployed as"


class Direction(models.TextChoices):
    UPSTREAM = "upstream", "Upstream"
    DOWNSTREAM = "downstream", "Downstream"
    BOTH = "both", "Both"
