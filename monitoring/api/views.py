"""The monitoring API: deployments, prediction logging and lookup, ground truth, baselines,
checks, KPIs and alerts. Parse, call one service or selector, render."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import SCOPE_CHECKED_BY_SERVICE, request_token_scopes
from accounts.choices import TokenScope
from core.api.parsers import StewardJSONParser
from core.api.viewsets import ServiceViewSet
from core.errors import Forbidden, InvalidInput, NotFound
from core.idempotency import idempotent_create
from monitoring import selectors
from monitoring.api import serializers as s
from monitoring.api.parsers import PredictionBatchParser
from monitoring.choices import CheckKind
from monitoring.filters import (
    AlertFilter,
    CheckResultFilter,
    DeploymentFilter,
    PredictionFilter,
)
from monitoring.services import baselines, checks, deployments, ingestion, kpis
from monitoring.services import retention as retention_services
from registry import selectors as registry_selectors


def _deployment(request, name: str):
    return get_object_or_404(selectors.deployment_list(request.user), name=name)


def _version(request, model_name: str, version: int):
    return get_object_or_404(
        registry_selectors.model_version_list(request.user),
        registered_model__name=model_name,
        version=version,
    )


def _page(view, queryset, serializer_class):
    page = view.paginate_queryset(queryset)
    data = serializer_class(page, many=True).data
    return view.get_paginated_response(data)


@extend_schema(tags=["monitoring"])
class DeploymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    """Deployments of the models you may see. ``POST`` deploys a version (deploy verb; only an
    approved version, or one in production, serves production traffic as live or canary, and
    only with the policy's sign-offs and a current validation; warm-up and shadow need at least
    validated: 409 otherwise). Serving production traffic (live, or a canary at any share) is
    the promote decision of an approved version.

    ``POST legal-hold/`` ``{"hold": true|false, "reason": ...}`` places or releases a legal
    hold (retention removes none of a held deployment's predictions); ``POST retention/``
    ``{"retention_days": int|null, "reason": ...}`` sets how long its predictions are kept (null:
    the global setting). Both are platform administrators' (403 for anyone else who may see the
    deployment), audited with the reason, and answer the deployment's retention state."""

    serializer_class = s.DeploymentSerializer
    lookup_field = "name"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    filterset_class = DeploymentFilter
    search_fields = ["name", "model_version__registered_model__name"]
    ordering_fields = ["deployed_at", "name"]
    ordering = ["-deployed_at"]
    # Retention and legal holds are administration, which takes the write scope like the other
    # administrators' routes (teams, roles, role assignments); the service checks the role.
    required_token_scopes = {
        "create": TokenScope.DEPLOY,
        "retire": TokenScope.DEPLOY,
        "legal_hold": TokenScope.WRITE,
        "retention": TokenScope.WRITE,
    }

    def base_queryset(self):
        return selectors.deployment_list(self.request.user)

    @extend_schema(request=s.DeploymentCreateSerializer, responses={201: s.DeploymentSerializer})
    def create(self, request):
        data = s.DeploymentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        data = dict(data.validated_data)
        version = _version(request, data.pop("model"), data.pop("version"))
        replaces = data.pop("replaces", "")
        if replaces:
            replaces = selectors.deployment_list(request.user).filter(name=replaces).first()
            if replaces is None:
                raise InvalidInput(
                    "The deployment to replace does not exist.",
                    field_errors={"replaces": ["Unknown deployment."]},
                )
        deployment = deployments.deployment_create(
            actor=request.user, version=version, replaces=replaces or None, **data
        )
        return Response(s.DeploymentSerializer(deployment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ReasonSerializer, responses=s.DeploymentSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request, name=None):
        data = s.ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        deployment = deployments.deployment_retire(
            actor=request.user, deployment=self.get_object(), reason=data.validated_data["reason"]
        )
        return Response(s.DeploymentSerializer(deployment).data)

    @extend_schema(request=s.LegalHoldSerializer, responses=s.DeploymentRetentionSerializer)
    @action(detail=True, methods=["post"], url_path="legal-hold")
    def legal_hold(self, request, name=None):
        deployment = self.get_object()
        data = s.LegalHoldSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        deployment = retention_services.deployment_legal_hold_set(
            actor=request.user, deployment=deployment, **data.validated_data
        )
        return Response(s.DeploymentRetentionSerializer(deployment).data)

    @extend_schema(request=s.RetentionSetSerializer, responses=s.DeploymentRetentionSerializer)
    @action(detail=True, methods=["post"])
    def retention(self, request, name=None):
        deployment = self.get_object()
        data = s.RetentionSetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        deployment = retention_services.deployment_retention_set(
            actor=request.user,
            deployment=deployment,
            days=data.validated_data["retention_days"],
            reason=data.validated_data["reason"],
        )
        return Response(s.DeploymentRetentionSerializer(deployment).data)


class DeploymentListViewSet(mixins.ListModelMixin, ServiceViewSet):
    """A list under ``deployments/<name>/``: the deployment is looked up (404 if the user may
    not see it) before anything is read; the list is filtered by ``filterset_class`` and paged
    by the API's pagination like every other list. Its order is the rows' own (no ordering
    or search parameter)."""

    filter_backends = [DjangoFilterBackend]

    def deployment(self):
        return _deployment(self.request, self.kwargs["name"])

    def deployment_rows(self, deployment) -> QuerySet:
        raise NotImplementedError

    def base_queryset(self):
        return self.deployment_rows(self.deployment())


@extend_schema(tags=["monitoring"])
class PredictionLogViewSet(DeploymentListViewSet):
    """``POST``: log a batch of predictions ``{"records": [{request_id, predicted_at, inputs,
    outputs, latency_ms, protected}]}`` (at most 10,000), as a serving gateway (the log verb of
    the gateway role; 403 for anyone else, the model's developers and deployers included). Each
    record is checked against the version's schemas; bad ones are listed with their index and
    errors and the good ones kept. Idempotent by request id. 200 with the counts; 400 when no
    record was good. ``GET``: the deployment's logged predictions, newest first."""

    # The API's parsers, the JSON one checking a batch's depth on its bytes (same refusals).
    parser_classes = [
        PredictionBatchParser if parser is StewardJSONParser else parser
        for parser in APIView.parser_classes
    ]
    serializer_class = s.PredictionSerializer
    filterset_class = PredictionFilter

    def deployment_rows(self, deployment):
        return selectors.prediction_list(self.request.user, deployment).order_by(
            "-predicted_at", "-id"
        )

    @extend_schema(request=s.BatchSerializer, responses={200: s.BatchResultSerializer})
    @idempotent_create
    def create(self, request, name: str):
        deployment = self.deployment()
        result = ingestion.predictions_ingest(
            actor=request.user, deployment=deployment, records=_records(request)
        )
        body = result.as_dict()
        if result.rejected and not result.accepted and not result.duplicates:
            return _batch_refused(body, "No record of the batch was valid; nothing was logged.")
        return Response(body)


def _batch_refused(body: dict, message: str) -> Response:
    """The 400 for a batch in which no record was usable: the error format, with the batch's
    counts and its first 100 per-record errors."""
    return Response(
        {
            "message": message,
            "code": "invalid",
            "errors": {"records": body["errors"][:100]},
            **body,
        },
        status=status.HTTP_400_BAD_REQUEST,
    )


def _records(request):
    if not isinstance(request.data, dict) or "records" not in request.data:
        raise InvalidInput(
            'Send {"records": [...]}.', field_errors={"records": ["This field is required."]}
        )
    return request.data["records"]


@extend_schema(tags=["monitoring"])
class FeedbackView(APIView):
    """``POST`` (a serving gateway, as for predictions): ground truth that arrived later, joined
    to logged predictions by request id:
    ``{"records": [{request_id, ground_truth, observed_at}]}``. Unknown request ids are listed;
    a different truth for one already recorded is refused for that record; 400 when no record
    was usable."""

    @extend_schema(request=s.BatchSerializer, responses=s.FeedbackResultSerializer)
    def post(self, request, name: str):
        deployment = _deployment(request, name)
        result = ingestion.predictions_feedback(
            actor=request.user, deployment=deployment, records=_records(request)
        )
        body = result.as_dict()
        if result.rejected and not (result.updated or result.unchanged or result.unknown):
            # As for predictions: a batch with nothing usable is the client's error.
            return _batch_refused(
                body, "No record of the batch was valid; no ground truth was recorded."
            )
        return Response(body)


@extend_schema(tags=["monitoring"], responses=s.PredictionTraceSerializer(many=True))
class PredictionTraceView(APIView):
    """Which model said this, and who approved it: every visible prediction logged under the
    request id, with its deployment, version, the version's decisions and its lineage."""

    def get(self, request, request_id: str):
        predictions = list(selectors.predictions_by_request_id(request.user, request_id))
        if not predictions:
            raise NotFound("No prediction with that request id.")
        for prediction in predictions:
            version = prediction.deployment.model_version
            prediction.approval_record = version.decisions.select_related("actor").order_by(
                "created_at", "id"
            )
            prediction.lineage_url = (
                f"/api/v1/models/{version.registered_model.name}/versions/{version.version}"
                "/lineage/?direction=upstream"
            )
        return Response(s.PredictionTraceSerializer(predictions, many=True).data)


@extend_schema(tags=["monitoring"])
class CheckResultViewSet(DeploymentListViewSet):
    """``GET``: the deployment's check results, newest first (``kind``, ``since``, ``until``).
    ``POST``: run every check now over the deployment's window ending now (202)."""

    serializer_class = s.CheckResultSerializer
    filterset_class = CheckResultFilter

    def deployment_rows(self, deployment):
        return selectors.check_result_list(self.request.user, deployment).order_by(
            "-window_end", "kind"
        )

    @extend_schema(request=None, responses={202: s.CheckRequestResultSerializer})
    def create(self, request, name: str):
        end = checks.checks_request(actor=request.user, deployment=self.deployment())
        return Response({"queued": True, "window_end": end}, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["monitoring"], responses=s.CheckResultSerializer)
class HealthView(APIView):
    """The deployment's latest health score, with its components and reasons."""

    def get(self, request, name: str):
        deployment = _deployment(request, name)
        latest = (
            selectors.check_result_list(request.user, deployment)
            .filter(kind=CheckKind.HEALTH)
            .order_by("-window_end")
            .first()
        )
        if latest is None:
            raise NotFound("No health score yet: no check has run for this deployment.")
        return Response(s.CheckResultSerializer(latest).data)


class CsvParser(BaseParser):
    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return {"csv": stream.read()}


def _baseline_token_check(request, version) -> None:
    """An API token sets a baseline with the scope of the verb it takes, which depends on the
    version's state (``baselines.baseline_token_scopes``)."""
    scopes = request_token_scopes(request)
    if scopes is None:
        return
    needed = baselines.baseline_token_scopes(version)
    if not set(needed) & set(scopes):
        raise Forbidden(
            f"This API token lacks the {' or '.join(repr(str(n)) for n in needed)} scope needed "
            f"to set the baseline of a {version.get_status_display().lower()} version "
            f"(it has: {', '.join(scopes)})."
        )


@extend_schema(tags=["monitoring"])
class BaselineView(APIView):
    """``GET``: the version's baseline profiles, current first. ``POST``: profile reference
    data once: ``{"from_training_data": true}``, ``{"rows": [...]}``, or a CSV body. While the
    version is a draft (or sent back) its builders set it; from submission on, an independent
    validator or deployer does (403 otherwise), and an API token needs the validate or deploy
    scope."""

    parser_classes = [
        *APIView.parser_classes,
        CsvParser,
    ]
    required_token_scopes = {"post": SCOPE_CHECKED_BY_SERVICE}  # by the view, per state

    @extend_schema(responses=s.BaselineSerializer(many=True))
    def get(self, request, model_name: str, version: int):
        found = _version(request, model_name, version)
        return Response(
            s.BaselineSerializer(selectors.baseline_list(request.user, found), many=True).data
        )

    @extend_schema(request=s.BaselineCreateSerializer, responses={201: s.BaselineSerializer})
    def post(self, request, model_name: str, version: int):
        found = _version(request, model_name, version)
        _baseline_token_check(request, found)
        if (
            isinstance(request.data, dict)
            and "csv" in request.data
            and isinstance(request.data["csv"], bytes)
        ):
            baseline = baselines.baseline_create(
                actor=request.user,
                version=found,
                rows=baselines.csv_rows(request.data["csv"]),
                source_label=request.headers.get("X-Steward-Source", "")[:300] or "CSV upload",
            )
            return Response(s.BaselineSerializer(baseline).data, status=status.HTTP_201_CREATED)
        data = s.BaselineCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        data = data.validated_data
        if data["from_training_data"]:
            baseline = baselines.baseline_create_from_training_data(
                actor=request.user, version=found
            )
        elif data.get("rows"):
            baseline = baselines.baseline_create(
                actor=request.user,
                version=found,
                rows=data["rows"],
                source_label=data.get("source_label", "") or "Uploaded rows",
            )
        else:
            raise InvalidInput(
                "Send from_training_data: true, rows, or a CSV body.",
                field_errors={"rows": ["Give reference rows or ask for the training data."]},
            )
        return Response(s.BaselineSerializer(baseline).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["monitoring"])
class KpiViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    """KPIs with thresholds and a direction, for a deployment or for every deployment of a
    model. ``POST /kpis/{id}/values/`` reports a value of a reported KPI (a serving gateway's
    write, in the audit chain)."""

    serializer_class = s.KpiSerializer
    required_token_scopes = {"create": TokenScope.DEPLOY}

    def base_queryset(self):
        return selectors.kpi_list(self.request.user)

    @extend_schema(request=s.KpiCreateSerializer, responses={201: s.KpiSerializer})
    def create(self, request):
        data = s.KpiCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        data = dict(data.validated_data)
        deployment_name, model_name = data.pop("deployment", None), data.pop("model", None)
        deployment = _deployment(request, deployment_name) if deployment_name else None
        model = (
            get_object_or_404(
                registry_selectors.registered_model_list(request.user), name=model_name
            )
            if model_name
            else None
        )
        kpi = kpis.kpi_create(
            actor=request.user, deployment=deployment, registered_model=model, **data
        )
        return Response(s.KpiSerializer(kpi).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["get"], responses=s.KpiValueSerializer(many=True))
    @extend_schema(
        methods=["post"], request=s.KpiValueCreateSerializer, responses={201: s.KpiValueSerializer}
    )
    @action(detail=True, methods=["get", "post"])
    def values(self, request, pk=None):
        kpi = self.get_object()
        if request.method == "GET":
            return _page(self, selectors.kpi_value_list(request.user, kpi), s.KpiValueSerializer)
        data = s.KpiValueCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        value = kpis.kpi_value_record(
            actor=request.user,
            kpi=kpi,
            deployment=_deployment(request, data.validated_data["deployment"]),
            value=data.validated_data["value"],
            measured_at=data.validated_data.get("measured_at"),
        )
        return Response(s.KpiValueSerializer(value).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["monitoring"])
class AlertEventViewSet(mixins.ListModelMixin, ServiceViewSet):
    """The events of one alert, oldest first: opened, each recurrence, acknowledged, resolved
    (the history on the alert's page, one row per event). Whoever may see the alert may read
    them; for anyone else the alert does not exist (404)."""

    serializer_class = s.AlertEventSerializer
    filter_backends = []  # the events in the order they happened; nothing to filter

    def base_queryset(self):
        alert = selectors.alert_get(self.request.user, self.kwargs["alert_pk"])
        return alert.events.select_related("by").order_by("at", "id")


@extend_schema(tags=["monitoring"])
class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    """Alerts of the deployments you may see (``state``, ``severity``, ``deployment`` filters);
    acknowledge and resolve them with a note."""

    serializer_class = s.AlertSerializer
    filterset_class = AlertFilter
    ordering = ["-opened_at"]

    def get_serializer_class(self):
        return s.AlertDetailSerializer if self.action == "retrieve" else s.AlertSerializer

    def base_queryset(self):
        qs = selectors.alert_list(self.request.user)
        if self.action == "retrieve":
            qs = qs.prefetch_related("deliveries__channel")
        return qs

    @extend_schema(request=s.NoteSerializer, responses=s.AlertSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        from monitoring.services.alerts import alert_acknowledge

        note = s.NoteSerializer(data=request.data)
        note.is_valid(raise_exception=True)
        alert = alert_acknowledge(
            actor=request.user, alert=self.get_object(), note=note.validated_data.get("note", "")
        )
        return Response(s.AlertSerializer(alert).data)

    @extend_schema(request=s.NoteSerializer, responses=s.AlertSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        from monitoring.services.alerts import alert_resolve

        note = s.NoteSerializer(data=request.data)
        note.is_valid(raise_exception=True)
        alert = alert_resolve(
            actor=request.user, alert=self.get_object(), note=note.validated_data.get("note", "")
        )
        return Response(s.AlertSerializer(alert).data)
