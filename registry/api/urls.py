"""/api/v1/ routes of the registry. Versions are nested under their model or dataset and
addressed by natural keys: /models/{name}/versions/{version}/."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from registry.api import views

router = DefaultRouter(trailing_slash=True)
router.register("models", views.RegisteredModelViewSet, basename="model")
router.register("datasets", views.DatasetViewSet, basename="dataset")
router.register("runs", views.RunViewSet, basename="run")
router.register("artifacts", views.ArtifactViewSet, basename="artifact")

model_versions = DefaultRouter(trailing_slash=True)
model_versions.include_root_view = False
model_versions.register("versions", views.ModelVersionViewSet, basename="model-version")
model_versions.register(
    "role-assignments", views.ModelRoleAssignmentViewSet, basename="model-role-assignment"
)

dataset_versions = DefaultRouter(trailing_slash=True)
dataset_versions.include_root_view = False
dataset_versions.register("versions", views.DatasetVersionViewSet, basename="dataset-version")

urlpatterns = [
    path("", include(router.urls)),
    path("models/<str:model_name>/", include(model_versions.urls)),
    path("datasets/<str:dataset_name>/", include(dataset_versions.urls)),
]
