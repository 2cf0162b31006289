"""MLflow registry routes: ``/api/2.0/mlflow/registered-models/*`` and
``/api/2.0/mlflow/model-versions/*`` (MLflow's ``ModelRegistryService``), named
``mlflow-<resource>-<call>``. A method a route does not serve answers 405 in MLflow's body."""

from django.urls import path

from integrations.mlflow.registry import views_models as m
from integrations.mlflow.registry import views_versions as v

MODELS = "api/2.0/mlflow/registered-models/"
VERSIONS = "api/2.0/mlflow/model-versions/"

urlpatterns = [
    path(f"{MODELS}create", m.RegisteredModelCreateView.as_view(), name="mlflow-model-create"),
    path(f"{MODELS}get", m.RegisteredModelGetView.as_view(), name="mlflow-model-get"),
    path(f"{MODELS}search", m.RegisteredModelSearchView.as_view(), name="mlflow-model-search"),
    path(f"{MODELS}update", m.RegisteredModelUpdateView.as_view(), name="mlflow-model-update"),
    path(f"{MODELS}rename", m.RegisteredModelRenameView.as_view(), name="mlflow-model-rename"),
    path(f"{MODELS}delete", m.RegisteredModelDeleteView.as_view(), name="mlflow-model-delete"),
    path(f"{MODELS}set-tag", m.RegisteredModelTagSetView.as_view(), name="mlflow-model-set-tag"),
    path(
        f"{MODELS}delete-tag",
        m.RegisteredModelTagDeleteView.as_view(),
        name="mlflow-model-delete-tag",
    ),
    path(
        f"{MODELS}get-latest-versions",
        m.RegisteredModelLatestVersionsView.as_view(),
        name="mlflow-model-latest-versions",
    ),
    path(f"{MODELS}alias", m.RegisteredModelAliasView.as_view(), name="mlflow-model-alias"),
    path(f"{VERSIONS}create", v.ModelVersionCreateView.as_view(), name="mlflow-version-create"),
    path(f"{VERSIONS}get", v.ModelVersionGetView.as_view(), name="mlflow-version-get"),
    path(f"{VERSIONS}search", v.ModelVersionSearchView.as_view(), name="mlflow-version-search"),
    path(f"{VERSIONS}update", v.ModelVersionUpdateView.as_view(), name="mlflow-version-update"),
    path(f"{VERSIONS}delete", v.ModelVersionDeleteView.as_view(), name="mlflow-version-delete"),
    path(
        f"{VERSIONS}get-download-uri",
        v.ModelVersionDownloadUriView.as_view(),
        name="mlflow-version-download-uri",
    ),
    path(
        f"{VERSIONS}transition-stage",
        v.ModelVersionTransitionStageView.as_view(),
        name="mlflow-version-transition-stage",
    ),
    path(f"{VERSIONS}set-tag", v.ModelVersionTagSetView.as_view(), name="mlflow-version-set-tag"),
    path(
        f"{VERSIONS}delete-tag",
        v.ModelVersionTagDeleteView.as_view(),
        name="mlflow-version-delete-tag",
    ),
]
