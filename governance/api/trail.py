"""The auditor's trail over the API: ``/api/v1/audit/events/`` (paginated, filtered, newest
first) and ``/api/v1/audit/export/?format=csv|json`` (the whole filtered trail as a download).
Included by ``config/api_urls.py`` under ``audit/``."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, views
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer

from accounts.access import may
from accounts.api.permissions import TokenScopePermission
from accounts.choices import Verb
from core.errors import InvalidInput
from core.filters import api_filterset
from core.models import AuditEvent
from governance.filters import TrailFilter
from governance.trail import (
    TrailSource,
    audit_chain_status,
    trail_keys,
    trail_rows,
    trail_stream,
)
from governance.trail_export import trail_csv_response, trail_json_response

TRAIL_PARAMETERS = [
    OpenApiParameter("model", str, description="A registered model's name."),
    OpenApiParameter("version", str, description="A version as name/number, e.g. credit-risk/3."),
    OpenApiParameter("user", str, description="The acting user's name (any case)."),
    OpenApiParameter("since", OpenApiTypes.STR, description="Date or ISO date-time (UTC)."),
    OpenApiParameter("until", OpenApiTypes.STR, description="Date (inclusive) or date-time."),
    OpenApiParameter("action", str, description="Part of the action, e.g. transition, update."),
    OpenApiParameter("source", str, enum=list(TrailSource.values)),
]


class CanReadAuditTrail(BasePermission):
    message = "Only auditors and administrators may read the audit trail."

    def has_permission(self, request, view) -> bool:
        return may(request.user, Verb.READ_AUDIT)


class TrailRowSerializer(serializers.Serializer):
    """One trail entry: an audit event of the hash chain (``source`` chain, with ``sequence``,
    ``prev_hash`` and ``hash``) or a field change recorded by auditlog (``source`` change,
    ``details`` as ``{field: [old, new]}``)."""

    source = serializers.ChoiceField(choices=TrailSource.choices)
    id = serializers.IntegerField()
    sequence = serializers.IntegerField(allow_null=True)
    at = serializers.DateTimeField()
    actor = serializers.CharField()
    action = serializers.CharField()
    subject_type = serializers.CharField()
    subject_id = serializers.CharField()
    subject_label = serializers.CharField()
    scope_model = serializers.CharField()
    scope_version = serializers.CharField()
    remote_addr = serializers.CharField()
    request_id = serializers.CharField()
    details = serializers.JSONField()
    prev_hash = serializers.CharField()
    hash = serializers.CharField()


@extend_schema(tags=["audit"], parameters=TRAIL_PARAMETERS)
class TrailEventList(generics.ListAPIView):
    """The audit trail, newest first: hash-chained audit events and field changes. For
    superusers, administrators and auditors."""

    serializer_class = TrailRowSerializer
    permission_classes = [IsAuthenticated, TokenScopePermission, CanReadAuditTrail]
    filter_backends: list = []

    def get_queryset(self):
        return trail_keys(api_filterset(TrailFilter, self.request, AuditEvent.objects.none()).trail)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        rows = trail_rows(page)
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)


class ErrorsAsJson(BaseContentNegotiation):
    """The export's ``format`` parameter names the file, not a renderer: errors are JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class TrailExport(views.APIView):
    """The whole filtered audit trail as a CSV or JSON download (``format``, JSON by default).
    The JSON file also carries the chain's verification status."""

    permission_classes = [IsAuthenticated, TokenScopePermission, CanReadAuditTrail]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = ErrorsAsJson

    @extend_schema(
        tags=["audit"],
        parameters=[*TRAIL_PARAMETERS, OpenApiParameter("format", str, enum=["csv", "json"])],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV file"),
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="JSON file"
            ),
        },
    )
    def get(self, request):
        file_format = request.query_params.get("format", "json")
        if file_format not in ("csv", "json"):
            raise InvalidInput(
                "Invalid filter 'format': choose csv or json.",
                field_errors={"format": ["Choose csv or json."]},
            )
        filters = api_filterset(TrailFilter, request, AuditEvent.objects.none()).trail
        if file_format == "csv":
            return trail_csv_response(trail_stream(filters))
        return trail_json_response(
            trail_stream(filters), filters=filters, chain=audit_chain_status()
        )


urlpatterns = [
    path("events/", TrailEventList.as_view(), name="api-audit-events"),
    path("export/", TrailExport.as_view(), name="api-audit-export"),
]
