from django.urls import include, path
from rest_framework.routers import DefaultRouter

from accounts.api import access_views, token_views, views

router = DefaultRouter()
router.include_root_view = False
router.register("teams", access_views.TeamViewSet, basename="team")
router.register("roles", access_views.RoleViewSet, basename="role")
router.register("role-assignments", access_views.RoleAssignmentViewSet, basename="role-assignment")
router.register("tokens", token_views.ApiTokenViewSet, basename="token")
router.register("login-events", token_views.LoginEventViewSet, basename="login-event")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="api-me"),
    path("", include(router.urls)),
]
