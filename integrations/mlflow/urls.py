"""The MLflow protocol's paths, where the MLflow client expects them (``/api/2.0/mlflow/...``,
``/api/3.0/mlflow/...``, ``/api/2.0/mlflow-artifacts/...``). Anything else under those prefixes
answers MLflow's ENDPOINT_NOT_FOUND."""

from django.urls import include, path, re_path

from integrations.mlflow.errors import endpoint_not_found, server_info

urlpatterns = [
    path("", include("integrations.mlflow.tracking.urls")),
    path("", include("integrations.mlflow.artifacts.urls")),
    path("", include("integrations.mlflow.registry.urls")),
    path("api/3.0/mlflow/server-info", server_info, name="mlflow-server-info"),
    re_path(r"^api/[23]\.0/mlflow(-artifacts)?/", endpoint_not_found),
]
