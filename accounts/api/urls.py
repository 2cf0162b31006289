from django.urls import include, path
from rest_framework.routers import DefaultRouter

from accounts.api import access_views, views

router = DefaultRouter()
router.include_root_view = False
router.register("teams", access_views.TeamViewSet, basename="team")
router.register("roles", access_views.RoleViewSet, basename="role")
router.register("role-assignments", access_views.RoleAssignmentViewSet, basename="role-assignment")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="api-me"),
    path("", include(router.urls)),
]
