"""Browser pages of the registry."""

from django.urls import path
from django.views.generic import RedirectView

from registry import views

app_name = "registry"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="registry:model-list"), name="home"),
    path("models/", views.model_list, name="model-list"),
    path("models/<str:name>/", views.model_detail, name="model-detail"),
    path(
        "models/<str:name>/versions/<int:version>/",
        views.model_version_detail,
        name="model-version-detail",
    ),
    path("models/<str:name>/compare/", views.version_compare, name="model-version-compare"),
    path("datasets/", views.dataset_list, name="dataset-list"),
    path("datasets/<str:name>/", views.dataset_detail, name="dataset-detail"),
    path(
        "datasets/<str:name>/versions/<int:version>/",
        views.dataset_version_detail,
        name="dataset-version-detail",
    ),
    path("runs/", views.run_list, name="run-list"),
    path("runs/<uuid:run_uuid>/", views.run_detail, name="run-detail"),
]
