"""Alert rules and channels in the API. Channels belong to a team and are managed by its
managers (and administrators); rules watch a deployment or a model and are managed by whoever
may deploy it (a token needs the deploy scope). A channel's signing secret and whole target
are shown to those who manage it, so they can configure the receiver; nobody else sees them."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from accounts.choices import TokenScope
from accounts.models import Team
from core.api.fields import IdField, NumberField
from core.api.viewsets import ServiceViewSet
from core.errors import InvalidInput, NotFound
from monitoring import selectors
from monitoring.choices import ALERT_MIN_STATUSES, ChannelKind, CheckKind, CheckStatus, Severity
from monitoring.models import AlertChannel, AlertRule
from monitoring.permissions import channel_target_masked, may_manage_channels
from monitoring.services import alerts
from registry import selectors as registry_selectors


class AlertChannelSerializer(serializers.ModelSerializer):
    """A channel. Its target (a Slack or webhook URL is a credential, an address list is
    personal data) is shown whole only to who manages the channel, masked to everyone else
    (``https://hooks.slack.com/…``, ``…@example.org``); ``target_masked`` says which."""

    owner_team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    target = serializers.SerializerMethodField()
    target_masked = serializers.SerializerMethodField()
    signing_secret = serializers.SerializerMethodField()

    class Meta:
        model = AlertChannel
        fields = [
            "id",
            "name",
            "owner_team",
            "kind",
            "target",
            "target_masked",
            "enabled",
            "signing_secret",
        ]

    def _manages(self, obj) -> bool:
        return may_manage_channels(self.context["request"].user, obj.owner_team)

    def get_target(self, obj) -> str:
        return obj.target if self._manages(obj) else channel_target_masked(obj.kind, obj.target)

    def get_target_masked(self, obj) -> bool:
        return not self._manages(obj)

    def get_signing_secret(self, obj) -> str | None:
        if obj.kind != ChannelKind.WEBHOOK or not self._manages(obj):
            return None
        return obj.signing_secret


class AlertChannelInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    owner_team = serializers.SlugField(max_length=100)
    kind = serializers.ChoiceField(choices=ChannelKind.choices)
    target = serializers.CharField(max_length=1000)
    enabled = serializers.BooleanField(default=True)


class AlertChannelUpdate(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    kind = serializers.ChoiceField(choices=ChannelKind.choices, required=False)
    target = serializers.CharField(max_length=1000, required=False)
    enabled = serializers.BooleanField(required=False)


class AlertRuleSerializer(serializers.ModelSerializer):
    deployment = serializers.SlugRelatedField(slug_field="name", read_only=True)
    model = serializers.CharField(source="registered_model.name", default=None, read_only=True)
    channels = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "name",
            "deployment",
            "model",
            "check_kind",
            "kpi",
            "min_status",
            "health_below",
            "severity",
            "channels",
            "flag_version",
            "enabled",
        ]


class AlertRuleInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    deployment = serializers.CharField(max_length=100, required=False)
    model = serializers.CharField(max_length=128, required=False)
    check_kind = serializers.ChoiceField(choices=CheckKind.choices)
    kpi = IdField(required=False, allow_null=True)
    min_status = serializers.ChoiceField(choices=ALERT_MIN_STATUSES, default=CheckStatus.CRITICAL)
    health_below = NumberField(required=False, allow_null=True)
    severity = serializers.ChoiceField(choices=Severity.choices, default=Severity.WARNING)
    channels = serializers.ListField(child=IdField(), required=False, max_length=50)
    flag_version = serializers.BooleanField(default=False)
    enabled = serializers.BooleanField(default=True)


class AlertRuleUpdate(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    min_status = serializers.ChoiceField(choices=ALERT_MIN_STATUSES, required=False)
    health_below = NumberField(required=False, allow_null=True)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    channels = serializers.ListField(child=IdField(), required=False, max_length=50)
    flag_version = serializers.BooleanField(required=False)
    enabled = serializers.BooleanField(required=False)


def _channels(request, ids):
    found = list(selectors.alert_channel_list(request.user).filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise InvalidInput(
            "A channel does not exist.", field_errors={"channels": ["Unknown channel id."]}
        )
    return found


@extend_schema(tags=["monitoring"])
class AlertChannelViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    ServiceViewSet,
):
    serializer_class = AlertChannelSerializer
    http_method_names = ["get", "post", "patch", "delete"]

    def base_queryset(self):
        return selectors.alert_channel_list(self.request.user)

    @extend_schema(request=AlertChannelInput, responses={201: AlertChannelSerializer})
    def create(self, request):
        data = AlertChannelInput(data=request.data)
        data.is_valid(raise_exception=True)
        data = dict(data.validated_data)
        team = Team.objects.filter(slug=data.pop("owner_team")).first()
        if team is None:
            raise InvalidInput("No such team.", field_errors={"owner_team": ["Unknown team."]})
        channel = alerts.alert_channel_create(actor=request.user, owner_team=team, **data)
        return Response(self.get_serializer(channel).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AlertChannelUpdate, responses=AlertChannelSerializer)
    def partial_update(self, request, pk=None):
        data = AlertChannelUpdate(data=request.data)
        data.is_valid(raise_exception=True)
        channel = alerts.alert_channel_update(
            actor=request.user, channel=self.get_object(), **data.validated_data
        )
        return Response(self.get_serializer(channel).data)

    def perform_destroy(self, instance):
        alerts.alert_channel_delete(actor=self.request.user, channel=instance)


@extend_schema(tags=["monitoring"])
class AlertRuleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    ServiceViewSet,
):
    serializer_class = AlertRuleSerializer
    http_method_names = ["get", "post", "patch", "delete"]
    # A rule can flag a version in production (a governance decision) and decides who hears of
    # an alert: managing rules is deploying's business, so a token needs the deploy scope.
    required_token_scopes = {
        "create": TokenScope.DEPLOY,
        "partial_update": TokenScope.DEPLOY,
        "destroy": TokenScope.DEPLOY,
    }

    def base_queryset(self):
        return selectors.alert_rule_list(self.request.user)

    @extend_schema(request=AlertRuleInput, responses={201: AlertRuleSerializer})
    def create(self, request):
        data = AlertRuleInput(data=request.data)
        data.is_valid(raise_exception=True)
        data = dict(data.validated_data)
        deployment_name, model_name = data.pop("deployment", None), data.pop("model", None)
        deployment = (
            get_object_or_404(selectors.deployment_list(request.user), name=deployment_name)
            if deployment_name
            else None
        )
        model = (
            get_object_or_404(
                registry_selectors.registered_model_list(request.user), name=model_name
            )
            if model_name
            else None
        )
        kpi_id = data.pop("kpi", None)
        kpi = None
        if kpi_id is not None:
            kpi = selectors.kpi_list(request.user).filter(pk=kpi_id).first()
            if kpi is None:
                raise NotFound("KPI not found.")
        rule = alerts.alert_rule_create(
            actor=request.user,
            deployment=deployment,
            registered_model=model,
            kpi=kpi,
            channels=_channels(request, data.pop("channels", [])),
            **data,
        )
        return Response(self.get_serializer(rule).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AlertRuleUpdate, responses=AlertRuleSerializer)
    def partial_update(self, request, pk=None):
        data = AlertRuleUpdate(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "channels" in fields:
            fields["channels"] = _channels(request, fields["channels"])
        rule = alerts.alert_rule_update(actor=request.user, rule=self.get_object(), **fields)
        return Response(self.get_serializer(rule).data)

    def perform_destroy(self, instance):
        alerts.alert_rule_delete(actor=self.request.user, rule=instance)
