"""Enumerations of monitoring."""

from __future__ import annotations

from django.db import models


class Environment(models.TextChoices):
    DEVELOPMENT = "development", "Development"
    STAGING = "staging", "Staging"
    PRODUCTION = "production", "Production"


class DeploymentMode(models.TextChoices):
    """How a deployment serves: warm-up and shadow see traffic but their answers are not used;
    a canary answers a share of the traffic; live answers all of it."""

    WARM_UP = "warm_up", "Warm-up"
    SHADOW = "shadow", "Shadow"
    CANARY = "canary", "Canary"
    LIVE = "live", "Live"


class DeploymentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class BaselineSource(models.TextChoices):
    DATASET_VERSION = "dataset_version", "Training dataset version"
    UPLOADED = "uploaded", "Uploaded reference data"


class CheckKind(models.TextChoices):
    """What a check result measured. ``health`` combines the latest of the others."""

    DRIFT = "drift", "Data drift"
    PREDICTION_DRIFT = "prediction_drift", "Prediction drift"
    PERFORMANCE = "performance", "Performance"
    BIAS = "bias", "Bias"
    KPI = "kpi", "KPI"
    HEALTH = "health", "Health score"


class CheckStatus(models.TextChoices):
    OK = "ok", "OK"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"
    UNKNOWN = "unknown", "Unknown"


class CheckTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    ON_DEMAND = "on_demand", "On demand"


class KpiDirection(models.TextChoices):
    HIGHER_IS_BETTER = "higher_is_better", "Higher is better"
    LOWER_IS_BETTER = "lower_is_better", "Lower is better"


class KpiSource(models.TextChoices):
    """Where a KPI's values come from: pushed by a business system through the API, or read
    from a metric of the deployment's checks (e.g. ``performance.auc``)."""

    REPORTED = "reported", "Reported through the API"
    CHECK_METRIC = "check_metric", "Metric of a check"


class Severity(models.TextChoices):
    """Declared least to most severe: ``Severity.values`` is the order alerts rank in."""

    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class AlertState(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


class AlertEventKind(models.TextChoices):
    """What happened in an alert's life; each is one ``AlertEvent`` row."""

    OPENED = "opened", "Opened"
    RECURRED = "recurred", "Recurred"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


class ChannelKind(models.TextChoices):
    EMAIL = "email", "E-mail"
    SLACK = "slack", "Slack-compatible incoming webhook"
    WEBHOOK = "webhook", "Webhook signed with HMAC-SHA256"


class DeliveryEvent(models.TextChoices):
    OPENED = "opened", "Alert opened"
    RESOLVED = "resolved", "Alert resolved"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


# The statuses an alert rule can wait for (a rule never fires on "ok").
ALERT_MIN_STATUSES = [(CheckStatus.WARNING, "Warning"), (CheckStatus.CRITICAL, "Critical")]
