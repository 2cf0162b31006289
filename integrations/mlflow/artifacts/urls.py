"""MLflow's artifact proxy paths."""

from django.urls import re_path

from integrations.mlflow.artifacts.views import ArtifactFileView, ArtifactListView

urlpatterns = [
    re_path(
        r"^api/2\.0/mlflow-artifacts/artifacts/?$",
        ArtifactListView.as_view(),
        name="mlflow-artifact-list",
    ),
    re_path(
        r"^api/2\.0/mlflow-artifacts/artifacts/(?P<path>.+)$",
        ArtifactFileView.as_view(),
        name="mlflow-artifact-file",
    ),
]
