from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import MeSerializer, TeamSerializer
from accounts.models import Team


@extend_schema(tags=["accounts"])
class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TeamSerializer
    queryset = Team.objects.all()
    lookup_field = "slug"
    search_fields = ["name", "slug"]
    ordering = ["name"]


@extend_schema(tags=["accounts"], responses=MeSerializer)
class MeView(APIView):
    """The signed-in user and their teams."""

    def get(self, request):
        return Response(MeSerializer(request.user).data)
