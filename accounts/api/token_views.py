"""The signed-in user's API tokens, and the login audit, over the API."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.access import may
from accounts.api.permissions import NotThroughToken, TokenScopePermission
from accounts.api.token_serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenCreateSerializer,
    ApiTokenSerializer,
    LoginEventSerializer,
)
from accounts.choices import LoginMethod, LoginOutcome, Verb
from accounts.filters import LoginEventFilter
from accounts.login_audit_selectors import login_event_list
from accounts.models import ApiToken
from accounts.services.tokens import token_create, token_revoke
from core.filters import api_filterset


@extend_schema(tags=["tokens"])
class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your personal API tokens. Creating returns the secret once; deleting revokes the token
    and keeps its record. Tokens cannot manage tokens: use your password (session or Basic)."""

    serializer_class = ApiTokenSerializer
    lookup_field = "prefix"
    permission_classes = [IsAuthenticated, NotThroughToken, TokenScopePermission]
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return ApiToken.objects.filter(user=self.request.user).order_by("-created_at")

    @extend_schema(request=ApiTokenCreateSerializer, responses={201: ApiTokenCreatedSerializer})
    def create(self, request):
        serializer = ApiTokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, secret = token_create(actor=request.user, **serializer.validated_data)
        body = ApiTokenSerializer(token).data | {"secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ApiTokenSerializer)
    def destroy(self, request, prefix=None):
        token = token_revoke(actor=request.user, token=self.get_object())
        return Response(ApiTokenSerializer(token).data)


LOGIN_EVENT_PARAMETERS = [
    OpenApiParameter("username", str, description="Part of the user name tried."),
    OpenApiParameter("outcome", str, enum=list(LoginOutcome.values)),
    OpenApiParameter(
        "method",
        str,
        description=f"One of {', '.join(LoginMethod.values)}, oidc:<provider> or saml:<provider>.",
    ),
    OpenApiParameter("since", OpenApiTypes.STR, description="Date or ISO date-time (UTC)."),
    OpenApiParameter("until", OpenApiTypes.STR, description="Date (inclusive) or date-time."),
]


@extend_schema(tags=["audit"], parameters=LOGIN_EVENT_PARAMETERS)
class LoginEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Every sign-in attempt, newest first: for auditors and administrators."""

    serializer_class = LoginEventSerializer
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return login_event_list()
        if not may(self.request.user, Verb.READ_AUDIT):
            raise PermissionDenied("Only auditors and administrators may read the login audit.")
        return api_filterset(LoginEventFilter, self.request, login_event_list()).qs
