"""Everything under /api/v1/, collected from the apps."""

from django.urls import include, path

urlpatterns = [
    path("", include("accounts.api.urls")),
    path("", include("registry.api.urls")),
    path("", include("governance.api.urls")),
    path("", include("monitoring.api.urls")),
    path("audit/", include("governance.api.trail")),
]
