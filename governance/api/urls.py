from django.urls import path

from governance.api import aliases, documents, views

urlpatterns = [
    path(
        "models/<str:model_name>/versions/<int:version>/transitions/",
        views.TransitionView.as_view(),
        name="version-transitions",
    ),
    path(
        "models/<str:model_name>/versions/<int:version>/governance/",
        views.GovernanceSummaryView.as_view(),
        name="version-governance",
    ),
    path("inbox/", views.InboxView.as_view(), name="inbox"),
    path(
        "models/<str:model_name>/reclassify/",
        views.ReclassifyView.as_view(),
        name="model-reclassify",
    ),
    # aliases of a model (champion, challenger, ...)
    path(
        "models/<str:model_name>/aliases/",
        aliases.ModelAliasListView.as_view(),
        name="model-aliases",
    ),
    path(
        "models/<str:model_name>/aliases/<str:alias>/",
        aliases.ModelAliasDetailView.as_view(),
        name="model-alias",
    ),
    # documentation
    path(
        "models/<str:model_name>/versions/<int:version>/documents/",
        documents.DocumentListView.as_view(),
        name="version-documents",
    ),
    path(
        "models/<str:model_name>/versions/<int:version>/documents/<int:pk>/",
        documents.DocumentDetailView.as_view(),
        name="version-document-detail",
    ),
    path(
        "models/<str:model_name>/versions/<int:version>/documents/<int:pk>/download/",
        documents.DocumentDownloadView.as_view(),
        name="version-document-download",
    ),
    path(
        "models/<str:model_name>/versions/<int:version>/free-text/",
        documents.FreeTextListView.as_view(),
        name="version-free-text-list",
    ),
    path(
        "models/<str:model_name>/versions/<int:version>/free-text/<slug:template>/<slug:section>/",
        documents.FreeTextDetailView.as_view(),
        name="version-free-text",
    ),
    path("annotations/", views.AnnotationListView.as_view(), name="annotation-list"),
    path(
        "annotations/<int:pk>/resolve/",
        views.AnnotationResolveView.as_view(),
        name="annotation-resolve",
    ),
]
