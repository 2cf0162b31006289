"""The governance API: transitions with motivations, history, the governance summary of a
version, the inbox, and annotations."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import SCOPE_CHECKED_BY_SERVICE, request_token_scopes
from accounts.choices import TokenScope
from accounts.models import Team
from core.api.pagination import StewardPagination
from core.errors import InvalidInput
from core.filters import api_filterset
from governance import queue_selectors, selectors, services
from governance.api import serializers as s
from governance.filters import QueueFilter
from governance.models import Annotation
from governance.targets import annotation_target_resolve
from registry import selectors as registry_selectors
from registry.models import ModelVersion


def _version(request, model_name: str, version: int):
    return get_object_or_404(
        registry_selectors.model_version_list(request.user),
        registered_model__name=model_name,
        version=version,
    )


@extend_schema(tags=["governance"])
class TransitionView(APIView):
    """``GET``: the version's decision history. ``POST``: take a decision
    (``{"action", "motivation"}``): 201 with the decision, 400 without a motivation, 403 if you
    may not, 409 if the state or the policy's guards do not allow it. An API token needs the
    scope of the action from the version's state, checked once the version is locked."""

    required_token_scopes = {"post": SCOPE_CHECKED_BY_SERVICE}

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
        decision = services.version_transition(
            actor=request.user,
            version=found,
            action=serializer.validated_data["action"],
            motivation=serializer.validated_data["motivation"],
            token_scopes=request_token_scopes(request),
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


MAX_PAGE_NUMBER = 100_000


def _page_number(request, name: str) -> int:
    raw = request.query_params.get(name, "1").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_NUMBER:
        raise InvalidInput(
            f"{name} must be a page number.", field_errors={name: ["A whole number from 1."]}
        )
    return int(raw)


@extend_schema(
    tags=["governance"],
    summary="The work queue",
    description=(
        "What awaits your decision (`awaiting`: most urgent state first, then oldest) apart "
        "from what you watch (`watching`: versions you may act on or registered that do not "
        "wait for you: in production, claimed by a colleague, already signed by you). The "
        "same queue as the inbox page (`/inbox/`).\n\n"
        "**Changed:** this endpoint used to answer a flat list of every version you *may* act "
        "on, each with its `actions`. It now answers an object with the two parts, each paged "
        "(`page` / `watching_page`, `page_size` up to 200) with `count`, `page`, `pages` and "
        "`results`; each row has `state`, `claimed_by`, `sign_offs` of `required_sign_offs`, "
        "`waiting_since`, `due` and `next_action` (no `status` or `actions` any more)."
    ),
    parameters=[
        OpenApiParameter("state", str, description="Only versions in this state."),
        OpenApiParameter("team", str, description="Only the models of this team (slug or name)."),
        OpenApiParameter("risk_tier", str, description="Only models of this risk tier."),
        OpenApiParameter("page", int, description="Page of `awaiting` (from 1)."),
        OpenApiParameter("watching_page", int, description="Page of `watching` (from 1)."),
        OpenApiParameter("page_size", int, description="Rows per part and page (1-200, 50)."),
    ],
    responses=s.WorkQueueSerializer,
)
class InboxView(APIView):
    """The work queue: what awaits your decision, and what you watch."""

    def get(self, request):
        filters = api_filterset(QueueFilter, request, ModelVersion.objects.none())
        queue = queue_selectors.work_queue(
            request.user,
            filters,
            awaiting_page=_page_number(request, "page"),
            watching_page=_page_number(request, "watching_page"),
            page_size=StewardPagination().get_page_size(request),
        )
        return Response(s.WorkQueueSerializer(queue).data)


@extend_schema(tags=["governance"])
class AnnotationListView(APIView):
    """Annotations on one object (``?target_type=&target=``), or write one."""

    required_token_scopes = {"post": TokenScope.ANNOTATE}

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


@extend_schema(
    tags=["governance"], request=s.AnnotationResolveSerializer, responses=s.AnnotationSerializer
)
class AnnotationResolveView(APIView):
    """Resolve a finding (or close a note) with a written motivation
    (``{"motivation": ...}``). A finding is resolved by its author or by a validator or approver
    of the model, never by the version's registrant or submitter."""

    required_token_scopes = {"post": TokenScope.ANNOTATE}

    def post(self, request, pk: int):
        serializer = s.AnnotationResolveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The service answers 404 for a note on something the user may not see.
        annotation = get_object_or_404(Annotation.objects.select_related("target_type"), pk=pk)
        annotation = services.annotation_resolve(
            actor=request.user,
            annotation=annotation,
            motivation=serializer.validated_data.get("motivation", ""),
        )
        return Response(s.AnnotationSerializer(annotation).data)


@extend_schema(
    tags=["governance"],
    request=s.ReclassifyRequestSerializer,
    responses={201: s.DecisionSerializer(many=True)},
)
class ReclassifyView(APIView):
    """Change a model's risk tier and/or owning team while versions are under review or in
    production (``{"risk_tier", "owner_team", "motivation"}``): an administrator's decision,
    recorded on each such version, which re-opens validation where the stricter policy is not
    met. 201 with the decisions; 403 without the classify verb; 400 without a motivation."""

    required_token_scopes = {"post": TokenScope.CLASSIFY}

    def post(self, request, model_name: str):
        model = get_object_or_404(
            registry_selectors.registered_model_list(request.user), name=model_name
        )
        serializer = s.ReclassifyRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        team = None
        if data.get("owner_team"):
            team = Team.objects.filter(slug=data["owner_team"]).first()
            if team is None:
                raise InvalidInput(
                    f"No team '{data['owner_team']}'.", field_errors={"owner_team": ["Unknown."]}
                )
        decisions = services.model_reclassify(
            actor=request.user,
            model=model,
            motivation=data["motivation"],
            risk_tier=data.get("risk_tier"),
            owner_team=team,
            token_scopes=request_token_scopes(request),
        )
        return Response(
            s.DecisionSerializer(decisions, many=True).data, status=status.HTTP_201_CREATED
        )
