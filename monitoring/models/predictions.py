"""The prediction log: every answer a deployment gave, and the truth that came later."""

from __future__ import annotations

from django.db import models


class Prediction(models.Model):
    """One logged prediction. Attributed to a deployment and so to exactly one model version.
    Unique per deployment by the gateway's request id, which makes ingestion idempotent (a shadow
    deployment may log the same request id as the live one: both answers are kept)."""

    id = models.BigAutoField(primary_key=True)
    deployment = models.ForeignKey(
        "monitoring.Deployment", on_delete=models.PROTECT, related_name="predictions"
    )
    request_id = models.CharField(max_length=128)
    predicted_at = models.DateTimeField()
    received_at = models.DateTimeField()
    inputs = models.JSONField(default=dict)
    outputs = models.JSONField(default=dict)
    latency_ms = models.FloatField(null=True, blank=True)
    protected = models.JSONField(
        default=dict, blank=True, help_text="Protected attributes, for bias checks only."
    )
    numeric_inputs = models.BinaryField(
        null=True,
        blank=True,
        editable=False,
        help_text="The numeric input columns of the version's schema, in schema order, as "
        "little-endian float64 (NaN for missing): what checks read instead of parsing JSON.",
    )
    ground_truth = models.JSONField(null=True, blank=True)
    ground_truth_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-predicted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "request_id"], name="unique_prediction_request"
            )
        ]
        indexes = [
            models.Index(fields=["deployment", "predicted_at"], name="prediction_window"),
            models.Index(fields=["request_id"], name="prediction_request_id"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} @ {self.deployment_id}"
