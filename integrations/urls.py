"""Routes of the integrations app: each protocol's paths, where its clients expect them.
Included at the root by config/urls.py."""

from django.urls import include, path

urlpatterns = [
    path("", include("integrations.openlineage.urls")),
    path("", include("integrations.mlflow.urls")),
]
