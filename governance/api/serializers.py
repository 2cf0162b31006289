"""Serializers of the governance API."""

from __future__ import annotations

from rest_framework import serializers

from core.api.fields import IdField
from core.markdown_text import markdown_html
from governance.choices import Action, AnnotationKind
from governance.models import Annotation, Decision
from registry.choices import RiskTier


class DecisionSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)
    model = serializers.CharField(source="version.registered_model.name", read_only=True)
    version = serializers.IntegerField(source="version.version", read_only=True)

    class Meta:
        model = Decision
        fields = [
            "id",
            "model",
            "version",
            "action",
            "from_state",
            "to_state",
            "actor",
            "motivation",
            "round",
            "created_at",
        ]
        read_only_fields = fields


class TransitionRequestSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=Action.choices)
    motivation = serializers.CharField(max_length=10_000, allow_blank=True)


class AnnotationResolveSerializer(serializers.Serializer):
    # Optional here so that an invisible annotation answers 404 before a missing motivation
    # answers 400; the service refuses an empty one.
    motivation = serializers.CharField(max_length=10_000, allow_blank=True, required=False)


class ReclassifyRequestSerializer(serializers.Serializer):
    risk_tier = serializers.ChoiceField(choices=RiskTier.choices, required=False)
    owner_team = serializers.CharField(max_length=64, required=False)
    motivation = serializers.CharField(max_length=10_000, allow_blank=True)


class GuardResultSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    passed = serializers.BooleanField()
    reason = serializers.CharField()


class ActionOptionSerializer(serializers.Serializer):
    action = serializers.CharField()
    label = serializers.CharField()
    allowed = serializers.BooleanField()
    blocked_by = GuardResultSerializer(many=True)


class GovernanceSummarySerializer(serializers.Serializer):
    status = serializers.CharField(source="version.status")
    risk_tier = serializers.CharField(source="version.registered_model.risk_tier")
    sign_offs = serializers.IntegerField()
    required_sign_offs = serializers.IntegerField()
    validated_at = serializers.DateTimeField(allow_null=True)
    revalidation_due_at = serializers.DateTimeField(allow_null=True)
    revalidation_overdue = serializers.BooleanField()
    policy_guards = GuardResultSerializer(many=True)
    options = ActionOptionSerializer(many=True)


class QueueRowSerializer(serializers.Serializer):
    """One version of the work queue, with the columns the inbox page shows."""

    model = serializers.CharField(source="version.registered_model.name")
    version = serializers.IntegerField(source="version.version")
    team = serializers.CharField(source="version.registered_model.owner_team.slug")
    risk_tier = serializers.CharField(source="version.registered_model.risk_tier")
    state = serializers.CharField(source="version.status")
    registered_by = serializers.CharField(source="version.registered_by.username")
    claimed_by = serializers.CharField(source="claimed_by.username", allow_null=True)
    sign_offs = serializers.IntegerField()
    required_sign_offs = serializers.IntegerField()
    waiting_since = serializers.DateTimeField()
    due = serializers.DateTimeField(
        allow_null=True, help_text="Revalidation due date (validated states), else null."
    )
    overdue = serializers.BooleanField()
    next_action = serializers.CharField(
        help_text="The decision the version's state asks for next ('' when none)."
    )


class QueuePartSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Versions in this part of the queue, all pages.")
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    results = QueueRowSerializer(source="rows", many=True)


class WorkQueueSerializer(serializers.Serializer):
    awaiting = QueuePartSerializer(
        help_text="Versions waiting for your decision, most urgent state first, then oldest."
    )
    watching = QueuePartSerializer(
        help_text="Versions you may act on or registered that do not wait for you."
    )


class AnnotationSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    resolved_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    body_html = serializers.SerializerMethodField()
    target_type = serializers.CharField(source="target_type.model", read_only=True)

    class Meta:
        model = Annotation
        fields = [
            "id",
            "target_type",
            "target_id",
            "parent",
            "author",
            "kind",
            "body",
            "body_html",
            "resolved_at",
            "resolved_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_body_html(self, obj) -> str:
        return markdown_html(obj.body)


class AnnotationCreateSerializer(serializers.Serializer):
    target_type = serializers.ChoiceField(
        choices=[
            "registered_model",
            "model_version",
            "dataset",
            "dataset_version",
            "run",
            "decision",
        ]
    )
    target = serializers.CharField(
        max_length=300,
        help_text="Natural key: model name, 'model/3', dataset name, 'dataset/2', run UUID, or "
        "decision id.",
    )
    kind = serializers.ChoiceField(choices=AnnotationKind.choices, default=AnnotationKind.NOTE)
    body = serializers.CharField(max_length=20_000)
    parent = IdField(required=False, allow_null=True)
