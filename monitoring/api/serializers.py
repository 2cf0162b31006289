"""Read shapes of monitoring, and input shapes that only parse what a client sent. Writes go
through monitoring.services."""

from __future__ import annotations

from rest_framework import serializers

from core.api.fields import DB_INT32_MAX, NumberField
from monitoring.choices import (
    CheckKind,
    DeploymentMode,
    Environment,
    KpiDirection,
    KpiSource,
)
from monitoring.models import (
    Alert,
    AlertDelivery,
    AlertEvent,
    BaselineProfile,
    CheckResult,
    Deployment,
    Kpi,
    KpiValue,
    Prediction,
)
from monitoring.services import retention


def _user():
    return serializers.SlugRelatedField(slug_field="username", read_only=True)


class DeploymentSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model_version.registered_model.name", read_only=True)
    version = serializers.IntegerField(source="model_version.version", read_only=True)
    version_status = serializers.CharField(source="model_version.status", read_only=True)
    deployed_by = _user()
    retired_by = _user()
    replaces = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = Deployment
        fields = [
            "name",
            "model",
            "version",
            "version_status",
            "environment",
            "mode",
            "traffic_percent",
            "endpoint_url",
            "description",
            "status",
            "deployed_by",
            "deployed_at",
            "replaces",
            "retired_by",
            "retired_at",
            "retired_reason",
            "check_window_hours",
            "retention_days",
            "legal_hold",
        ]
        # Set only through the retention routes (monitoring.services.retention).
        read_only_fields = ["retention_days", "legal_hold"]


class DeploymentRetentionSerializer(serializers.ModelSerializer):
    """How long a deployment keeps its predictions and whether a legal hold keeps them anyway:
    its own ``retention_days`` (null: the global setting), the days that apply
    (``effective_retention_days``, null: kept forever) and who placed or released the hold,
    when and why."""

    deployment = serializers.CharField(source="name", read_only=True)
    legal_hold_by = _user()
    effective_retention_days = serializers.SerializerMethodField()
    global_retention_days = serializers.SerializerMethodField()

    class Meta:
        model = Deployment
        fields = [
            "deployment",
            "retention_days",
            "effective_retention_days",
            "global_retention_days",
            "legal_hold",
            "legal_hold_by",
            "legal_hold_at",
            "legal_hold_reason",
        ]
        read_only_fields = fields

    def get_effective_retention_days(self, deployment: Deployment) -> int | None:
        return retention.retention_days(deployment)

    def get_global_retention_days(self, deployment: Deployment) -> int | None:
        return retention.global_retention_days()


class StrictBooleanField(serializers.BooleanField):
    """JSON ``true`` or ``false`` only: DRF's BooleanField also takes "yes", "0" and 1, and a
    legal hold placed by a stray string is not a client's intent."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: DRF's IntegerField also takes "12" and 12.0; a number of days sent
    as a string, a fraction or a boolean is refused with a 400 naming the field."""

    default_error_messages = {"invalid": "A whole number is required."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class DeploymentCreateSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=128)
    version = serializers.IntegerField(min_value=1, max_value=DB_INT32_MAX)
    name = serializers.CharField(max_length=100)
    environment = serializers.ChoiceField(choices=Environment.choices)
    mode = serializers.ChoiceField(choices=DeploymentMode.choices)
    traffic_percent = serializers.IntegerField(
        min_value=0, max_value=100, required=False, allow_null=True
    )
    endpoint_url = serializers.CharField(max_length=500, required=False, allow_blank=True)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    replaces = serializers.CharField(max_length=100, required=False, allow_blank=True)
    check_window_hours = serializers.IntegerField(min_value=1, max_value=24 * 90, required=False)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000)


class LegalHoldSerializer(ReasonSerializer):
    hold = StrictBooleanField(help_text="true places the hold, false releases it.")


class RetentionSetSerializer(ReasonSerializer):
    retention_days = StrictIntegerField(
        min_value=1,
        max_value=retention.MAX_RETENTION_DAYS,
        allow_null=True,
        help_text="Days the deployment keeps its predictions; null for the global setting.",
    )


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class BatchSerializer(serializers.Serializer):
    """Documentation of a batch: ``{"records": [...]}``. The records are checked one by one by
    the service, so that a bad one is reported without costing the others."""

    records = serializers.ListField(child=serializers.DictField())


class BatchResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField())


class FeedbackResultSerializer(serializers.Serializer):
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    unknown_request_ids = serializers.ListField(child=serializers.CharField())
    rejected = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField())


class PredictionSerializer(serializers.ModelSerializer):
    deployment = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = Prediction
        fields = [
            "request_id",
            "deployment",
            "predicted_at",
            "received_at",
            "inputs",
            "outputs",
            "latency_ms",
            "protected",
            "ground_truth",
            "ground_truth_at",
        ]


class DecisionRecordSerializer(serializers.Serializer):
    action = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    actor = serializers.CharField(source="actor.username")
    motivation = serializers.CharField()
    created_at = serializers.DateTimeField()


class PredictionTraceSerializer(PredictionSerializer):
    """A prediction with the version that made it, its status and approval record."""

    model = serializers.CharField(
        source="deployment.model_version.registered_model.name", read_only=True
    )
    version = serializers.IntegerField(source="deployment.model_version.version", read_only=True)
    version_status = serializers.CharField(source="deployment.model_version.status", read_only=True)
    environment = serializers.CharField(source="deployment.environment", read_only=True)
    mode = serializers.CharField(source="deployment.mode", read_only=True)
    artifact_sha256 = serializers.CharField(
        source="deployment.model_version.artifact_sha256", read_only=True
    )
    approval_record = DecisionRecordSerializer(many=True, read_only=True)
    lineage_url = serializers.CharField(read_only=True)

    class Meta(PredictionSerializer.Meta):
        fields = [
            *PredictionSerializer.Meta.fields,
            "model",
            "version",
            "version_status",
            "environment",
            "mode",
            "artifact_sha256",
            "approval_record",
            "lineage_url",
        ]


class CheckResultSerializer(serializers.ModelSerializer):
    deployment = serializers.SlugRelatedField(slug_field="name", read_only=True)
    requested_by = _user()

    class Meta:
        model = CheckResult
        fields = [
            "id",
            "deployment",
            "kind",
            "status",
            "score",
            "summary",
            "window_start",
            "window_end",
            "row_count",
            "details",
            "baseline",
            "trigger",
            "requested_by",
            "created_at",
        ]


class CheckRequestResultSerializer(serializers.Serializer):
    queued = serializers.BooleanField()
    window_end = serializers.DateTimeField()


class BaselineSerializer(serializers.ModelSerializer):
    dataset_version = serializers.CharField(source="dataset_version.natural_key", default=None)
    created_by = _user()
    features = serializers.SerializerMethodField()

    class Meta:
        model = BaselineProfile
        fields = [
            "id",
            "source",
            "source_label",
            "dataset_version",
            "content_sha256",
            "row_count",
            "features",
            "inputs",
            "outputs",
            "created_by",
            "created_at",
        ]

    def get_features(self, obj) -> list[str]:
        return sorted((obj.inputs or {}).get("features", {}))


class BaselineCreateSerializer(serializers.Serializer):
    """Either ``from_training_data: true`` (the version's training dataset version, read from
    the artifact store by its hash), or ``rows``: flat reference records. A CSV file can also be
    sent as the body with Content-Type text/csv."""

    from_training_data = serializers.BooleanField(required=False, default=False)
    rows = serializers.ListField(child=serializers.DictField(), required=False, max_length=200_000)
    source_label = serializers.CharField(max_length=300, required=False, allow_blank=True)


class KpiSerializer(serializers.ModelSerializer):
    deployment = serializers.SlugRelatedField(slug_field="name", read_only=True)
    registered_model = serializers.SlugRelatedField(slug_field="name", read_only=True)
    created_by = _user()

    class Meta:
        model = Kpi
        fields = [
            "id",
            "name",
            "description",
            "deployment",
            "registered_model",
            "source",
            "metric",
            "direction",
            "warning_threshold",
            "critical_threshold",
            "unit",
            "created_by",
            "created_at",
        ]


class KpiCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    deployment = serializers.CharField(max_length=100, required=False)
    model = serializers.CharField(max_length=128, required=False)
    source = serializers.ChoiceField(choices=KpiSource.choices, default=KpiSource.REPORTED)
    metric = serializers.CharField(max_length=100, required=False, allow_blank=True)
    direction = serializers.ChoiceField(choices=KpiDirection.choices)
    warning_threshold = NumberField(required=False, allow_null=True)
    critical_threshold = NumberField(required=False, allow_null=True)
    unit = serializers.CharField(max_length=20, required=False, allow_blank=True)


class KpiValueSerializer(serializers.ModelSerializer):
    deployment = serializers.SlugRelatedField(slug_field="name", read_only=True)
    recorded_by = _user()

    class Meta:
        model = KpiValue
        fields = ["id", "deployment", "value", "measured_at", "status", "recorded_by"]


class KpiValueCreateSerializer(serializers.Serializer):
    deployment = serializers.CharField(max_length=100)
    value = NumberField()
    measured_at = serializers.DateTimeField(required=False)


class AlertDeliverySerializer(serializers.ModelSerializer):
    channel = serializers.CharField(source="channel.name")

    class Meta:
        model = AlertDelivery
        fields = [
            "channel",
            "event",
            "status",
            "attempts",
            "last_attempt_at",
            "response_code",
            "error",
            "delivered_at",
        ]


class AlertSerializer(serializers.ModelSerializer):
    deployment = serializers.SlugRelatedField(slug_field="name", read_only=True)
    rule = serializers.CharField(source="rule.name")
    check_kind = serializers.CharField(source="rule.check_kind")
    acknowledged_by = _user()
    resolved_by = _user()

    class Meta:
        model = Alert
        fields = [
            "id",
            "title",
            "severity",
            "state",
            "deployment",
            "rule",
            "check_kind",
            "details",
            "check_result",
            "opened_at",
            "last_seen_at",
            "occurrences",
            "acknowledged_by",
            "acknowledged_at",
            "acknowledgement_note",
            "resolved_by",
            "resolved_at",
            "resolution_note",
        ]


class AlertEventSerializer(serializers.ModelSerializer):
    """One event of an alert's life (opened, recurred, acknowledged, resolved); ``by`` is empty
    when monitoring itself acted."""

    by = _user()

    class Meta:
        model = AlertEvent
        fields = ["id", "kind", "at", "by", "detail"]


class AlertDetailSerializer(AlertSerializer):
    deliveries = AlertDeliverySerializer(many=True, read_only=True)

    class Meta(AlertSerializer.Meta):
        fields = [*AlertSerializer.Meta.fields, "deliveries"]


CHECK_KIND_CHOICES = CheckKind.choices
