"""Teams, memberships, roles and role assignments over the API. Everyone signed in may list
teams; only administrators change anything; administrators and auditors read assignments."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from accounts import selectors, services
from accounts.access import may
from accounts.api.access_serializers import (
    MembershipSerializer,
    RoleAssignmentSerializer,
    RoleSerializer,
    TeamWriteSerializer,
)
from accounts.api.serializers import TeamSerializer
from accounts.choices import Verb
from accounts.models import Role, Team


def _require_reader(request) -> None:
    if not may(request.user, Verb.READ_AUDIT):
        raise PermissionDenied("Only administrators and auditors may read role assignments.")


@extend_schema(tags=["access"])
class TeamViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Teams own models, datasets and runs. Creating teams and managing members is for
    administrators."""

    serializer_class = TeamSerializer
    queryset = Team.objects.all()
    lookup_field = "slug"
    search_fields = ["name", "slug"]
    ordering = ["name"]

    def get_serializer_class(self):
        if self.action == "create":
            return TeamWriteSerializer
        if self.action == "members":
            return MembershipSerializer
        return TeamSerializer

    @extend_schema(request=TeamWriteSerializer, responses={201: TeamSerializer})
    def create(self, request):
        serializer = TeamWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        team = services.team_create(actor=request.user, **serializer.validated_data)
        return Response(TeamSerializer(team).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["get"], responses=MembershipSerializer(many=True), request=None)
    @extend_schema(
        methods=["post"], request=MembershipSerializer, responses={201: MembershipSerializer}
    )
    # The member list is one unpaged list (pagination_class=None says so to the schema too).
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def members(self, request, slug=None):
        """List a team's members (administrators and auditors), or add one (administrators)."""
        team = self.get_object()
        if request.method == "GET":
            _require_reader(request)
            rows = selectors.membership_list().filter(team=team).order_by("user__username")
            return Response(MembershipSerializer(rows, many=True).data)
        # Permission before validation: a refusal must not say whether the username exists.
        services.require_administrator(request.user)
        serializer = MembershipSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.team_add_member(
            actor=request.user, team=team, user=serializer.validated_data["user"]
        )
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"members/(?P<username>[^/]+)")
    def remove_member(self, request, slug=None, username=None):
        team = self.get_object()
        membership = get_object_or_404(team.memberships, user__username=username)
        services.team_remove_member(actor=request.user, team=team, user=membership.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["access"])
class RoleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The five governance roles; administrators edit their description and qualifications."""

    serializer_class = RoleSerializer
    queryset = Role.objects.all()
    lookup_field = "name"
    http_method_names = ["get", "patch", "head", "options"]

    def perform_update(self, serializer):
        services.require_administrator(self.request.user)
        services.role_describe(
            actor=self.request.user, role=serializer.instance, **serializer.validated_data
        )


@extend_schema(tags=["access"])
class RoleAssignmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Who holds which role, everywhere or for one team."""

    serializer_class = RoleAssignmentSerializer
    filterset_fields = {
        "user__username": ["exact"],
        "role__name": ["exact"],
        "team__slug": ["exact"],
    }
    ordering = ["user__username", "role__name"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return selectors.role_assignment_list().none()
        _require_reader(self.request)
        return selectors.role_assignment_list()

    def create(self, request):
        # Permission before validation: a refusal must not say whether the username exists.
        services.require_administrator(request.user)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        assignment = services.role_assign(
            actor=request.user,
            user=data["user"],
            role=data["role"]["name"],
            team=data.get("team"),
            note=data.get("note", ""),
        )
        return Response(self.get_serializer(assignment).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.role_revoke(actor=self.request.user, assignment=instance)
