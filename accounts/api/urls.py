from django.urls import include, path
from rest_framework.routers import DefaultRouter

from accounts.api import views

router = DefaultRouter()
router.include_root_view = False
router.register("teams", views.TeamViewSet, basename="team")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="api-me"),
    path("", include(router.urls)),
]
