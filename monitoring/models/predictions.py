"""The prediction log: every answer a deployment gave, and the truth that came later."""

from __future__ import annotations

from django.db import models

from accounts.access import GovernedQuerySet


class Prediction(models.Model):
    """One logged prediction. Attributed to a deployment and so to exactly one model version.
    Unique per deployment by the gateway's request id, which makes ingestion idempotent (a shadow
    deployment may log the same request id as the live one: both answers are kept).

    On PostgreSQL the table is range-partitioned by ``predicted_at`` (monitoring.partitions):
    there the primary key is (id, predicted_at) and ``unique_prediction_request`` cannot be a
    constraint of the partitioned table, so :class:`PredictionKey` keeps the unique request ids
    instead, filled by a statement trigger. The Django model keeps ``id`` and the constraint
    (as SQLite's plain table has them)."""

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

    objects = GovernedQuerySet.as_manager()

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


class PredictionKey(models.Model):
    """Which request ids a deployment logged, unique, on PostgreSQL: the partitioned prediction
    log can only enforce keys that include ``predicted_at``, so a statement trigger of the log
    copies each inserted prediction's key here (a duplicate raises the unique violation
    ingestion already handles) and another removes the keys of deleted ones. The keys of a
    partition retention drops are removed after the drop, in batches, by a task
    (``monitoring.partitions.dropped_keys_remove``). Empty on SQLite, whose plain table keeps
    the unique constraint itself. A model so that migrations and test flushes know the table."""

    pk = models.CompositePrimaryKey("deployment", "request_id")
    deployment = models.ForeignKey(
        "monitoring.Deployment", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    request_id = models.CharField(max_length=128)
    predicted_at = models.DateTimeField()

    class Meta:
        db_table = "monitoring_prediction_key"
        indexes = [models.Index(fields=["predicted_at"], name="prediction_key_time")]

    def __str__(self) -> str:
        return f"{self.request_id} @ {self.deployment_id}"


class PredictionPartition(models.Model):
    """No table of its own: the admin's entry for the prediction log's partitions and their
    sizes (monitoring.admin_partitions reads them from PostgreSQL's catalog)."""

    name = models.CharField(max_length=63, primary_key=True)

    class Meta:
        managed = False
        db_table = "monitoring_prediction_partition_view"
        verbose_name = "prediction log partition"

    def __str__(self) -> str:
        return self.name
