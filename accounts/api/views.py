from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import MeSerializer


@extend_schema(tags=["accounts"], responses=MeSerializer)
class MeView(APIView):
    """The signed-in user, their teams and their roles."""

    def get(self, request):
        return Response(MeSerializer(request.user).data)
