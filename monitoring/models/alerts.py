"""Alert rules, channels, alerts, the events of each alert's life and every attempt to deliver
them."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.access import GovernedQuerySet
from monitoring.choices import (
    ALERT_MIN_STATUSES,
    AlertEventKind,
    AlertState,
    ChannelKind,
    CheckKind,
    CheckStatus,
    DeliveryEvent,
    DeliveryStatus,
    Severity,
)


def _new_signing_secret() -> str:
    return secrets.token_urlsafe(32)


class AlertChannel(models.Model):
    """Where alerts go: e-mail addresses, a Slack-compatible incoming webhook, or a generic
    webhook whose body is signed with HMAC-SHA256 under ``signing_secret``. A webhook target
    is checked against the outbound policy (no private, loopback, link-local or metadata
    addresses) when saved and again at every delivery."""

    name = models.CharField(max_length=100)
    owner_team = models.ForeignKey(
        "accounts.Team", on_delete=models.PROTECT, related_name="alert_channels"
    )
    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    target = models.CharField(
        max_length=1000, help_text="Comma-separated e-mail addresses, or the webhook's https URL."
    )
    signing_secret = models.CharField(max_length=100, default=_new_signing_secret, editable=False)
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["owner_team_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["owner_team", "name"], name="unique_channel_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class AlertRule(models.Model):
    """When to alert: a check kind (or one KPI) of a deployment, or of every deployment of a
    model, reaching ``min_status`` (or the health score falling below ``health_below``).
    ``flag_version`` moves a live version to 'flagged' when a critical alert opens."""

    name = models.CharField(max_length=100)
    deployment = models.ForeignKey(
        "monitoring.Deployment",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alert_rules",
    )
    registered_model = models.ForeignKey(
        "registry.RegisteredModel",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alert_rules",
    )
    check_kind = models.CharField(max_length=32, choices=CheckKind.choices)
    kpi = models.ForeignKey(
        "monitoring.Kpi", null=True, blank=True, on_delete=models.CASCADE, related_name="rules"
    )
    min_status = models.CharField(
        max_length=16,
        choices=ALERT_MIN_STATUSES,
        default=CheckStatus.CRITICAL,
    )
    health_below = models.FloatField(
        null=True, blank=True, help_text="For health rules: alert when the score is below this."
    )
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.WARNING)
    channels = models.ManyToManyField(AlertChannel, blank=True, related_name="rules")
    flag_version = models.BooleanField(
        default=False,
        help_text="When a critical alert opens, move a version in production to 'flagged'.",
    )
    enabled = models.BooleanField(default=True)
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
                name="rule_for_deployment_xor_model",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Alert(models.Model):
    """A rule's condition holding for a deployment. While it is open or acknowledged, further
    results that meet the condition count as occurrences of the same alert instead of new ones;
    it resolves by hand (who, when, note) or when a later result no longer meets it."""

    rule = models.ForeignKey(AlertRule, on_delete=models.PROTECT, related_name="alerts")
    deployment = models.ForeignKey(
        "monitoring.Deployment", on_delete=models.PROTECT, related_name="alerts"
    )
    severity = models.CharField(max_length=16, choices=Severity.choices)
    state = models.CharField(
        max_length=16, choices=AlertState.choices, default=AlertState.OPEN, db_index=True
    )
    title = models.CharField(max_length=300)
    details = models.JSONField(default=dict)
    check_result = models.ForeignKey(
        "monitoring.CheckResult", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kpi_value = models.ForeignKey(
        "monitoring.KpiValue", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    occurrences = models.PositiveIntegerField(default=1)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledgement_note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)

    objects = GovernedQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            # One unresolved alert per rule and deployment.
            models.UniqueConstraint(
                fields=["rule", "deployment"],
                condition=~Q(state=AlertState.RESOLVED),
                name="one_unresolved_alert_per_rule",
            )
        ]

    def __str__(self) -> str:
        return self.title


class AlertEvent(models.Model):
    """One event in an alert's life: opened, recurred (one more result met the condition),
    acknowledged or resolved. The rows are the record; the alert's ``occurrences`` and its
    acknowledged and resolved fields are kept beside them for the lists. Written only by
    ``monitoring.services.alerts.lifecycle``, in the transaction of the change."""

    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=16, choices=AlertEventKind.choices)
    at = models.DateTimeField()
    # Who acted; None when monitoring itself did (an evaluation opened, counted or cleared it).
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The person's note, or which check result or KPI value it was.
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["alert", "at"], name="alert_event_alert_at")]

    def __str__(self) -> str:
        return f"alert {self.alert_id} {self.kind} at {self.at:%Y-%m-%d %H:%M}"


class AlertDelivery(models.Model):
    """One alert event (opened, resolved) to one channel, with every attempt counted. Unique per
    (alert, channel, event): a retried or duplicated task finds the row and does not send twice
    once it is sent."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(AlertChannel, on_delete=models.PROTECT, related_name="deliveries")
    event = models.CharField(max_length=16, choices=DeliveryEvent.choices)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "channel", "event"], name="unique_alert_delivery"
            )
        ]

    def __str__(self) -> str:
        return f"{self.alert_id} -> {self.channel} ({self.status})"
