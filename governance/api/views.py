"""The governance API: transitions with motivations, history, the governance summary of a
version, the inbox, and annotations."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import InvalidInput
from governance import selectors, services, workflow
from governance.api import serializers as s
from governance.models import Annotation
from governance.targets import annotation_target_resolve
from registry import selectors as registry_selectors


def _version(request, model_name: str, version: int):
    return get_object_or_404(
        registry_selectors.model_version_list(request.user),
        registered_model__name=model_name,
        version=version,
    )


def _require_token_scope(request, scope: str) -> None:
    """An API token must carry the scope of the workflow action it is used for."""
    scopes = getattr(request.auth, "scopes", None)
    if scopes is not None and scope not in scopes:
        raise PermissionDenied(f"This token lacks the '{scope}' scope needed for this action.")


@extend_schema(tags=["governance"])
class TransitionView(APIView):
    """``GET``: the version's decision history. ``POST``: take a decision
    (``{"action", "motivation"}``): 201 with the decision, 400 without a motivation, 403 if you
    may not, 409 if the state or the policy's guards do not allow it."""

    @extend_schema(responses=s.DecisionSerializer(many=True))
    def get(self, request, model_name: str, version: int):
        found = _version(request, model_name, version)
        decisions = selectors.decision_history(found).select_related("version__registered_model")
        return Response(s.DecisionSerializer(decisions, many=True).data)

    @extend_schema(request=s.TransitionRequestSerializer, responses={201: s.DecisionSerializer})
    def post(self, request, model_name: str, version: int):
        found = _version(request, model_name, version)
        serializer = s.TransitionRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        action = serializer.validated_data["action"]
        step = workflow.transition_for(found.status, action)
        if step is not None:
            _require_token_scope(request, step.scope)
        decision = services.version_transition(
            actor=request.user,
            version=found,
            action=action,
            motivation=serializer.validated_data["motivation"],
            request_id=request.headers.get("X-Request-ID", "")[:64],
        )
        return Response(s.DecisionSerializer(decision).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["governance"], responses=s.GovernanceSummarySerializer)
class GovernanceSummaryView(APIView):
    """The policy's guards for the version, and what you may do to it now (and what blocks
    you)."""

    def get(self, request, model_name: str, version: int):
        found = _version(request, model_name, version)
        return Response(
            s.GovernanceSummarySerializer(selectors.governance_summary(request.user, found)).data
        )


@extend_schema(tags=["governance"], responses=s.InboxItemSerializer(many=True))
class InboxView(APIView):
    """Versions waiting for an action you may take."""

    def get(self, request):
        return Response(s.InboxItemSerializer(selectors.inbox(request.user), many=True).data)


@extend_schema(tags=["governance"])
class AnnotationListView(APIView):
    """Annotations on one object (``?target_type=&target=``), or write one."""

    @extend_schema(
        parameters=[
            OpenApiParameter("target_type", str, required=True),
            OpenApiParameter("target", str, required=True),
        ],
        responses=s.AnnotationSerializer(many=True),
    )
    def get(self, request):
        target_type = request.query_params.get("target_type", "")
        key = request.query_params.get("target", "")
        if not target_type or not key:
            raise InvalidInput(
                "Name the object: ?target_type=model_version&target=name/3",
                field_errors={"target": ["Required."]},
            )
        target = annotation_target_resolve(request.user, target_type, key)
        return Response(s.AnnotationSerializer(selectors.annotations_on(target), many=True).data)

    @extend_schema(request=s.AnnotationCreateSerializer, responses={201: s.AnnotationSerializer})
    def post(self, request):
        serializer = s.AnnotationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        target = annotation_target_resolve(request.user, data["target_type"], data["target"])
        parent = None
        if data.get("parent"):
            parent = selectors.annotations_on(target).filter(pk=data["parent"]).first()
            if parent is None:
                raise InvalidInput(
                    "The parent note is not on this object.",
                    field_errors={"parent": ["Not found on this object."]},
                )
        annotation = services.annotation_create(
            actor=request.user,
            target=target,
            body=data["body"],
            kind=data["kind"],
            parent=parent,
        )
        return Response(s.AnnotationSerializer(annotation).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["governance"], request=None, responses=s.AnnotationSerializer)
class AnnotationResolveView(APIView):
    """Mark an annotation resolved."""

    def post(self, request, pk: int):
        # The service answers 404 for a note on something the user may not see.
        annotation = get_object_or_404(Annotation.objects.select_related("target_type"), pk=pk)
        annotation = services.annotation_resolve(actor=request.user, annotation=annotation)
        return Response(s.AnnotationSerializer(annotation).data)
