from django.urls import path

from governance.api import views

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
    path("annotations/", views.AnnotationListView.as_view(), name="annotation-list"),
    path(
        "annotations/<int:pk>/resolve/",
        views.AnnotationResolveView.as_view(),
        name="annotation-resolve",
    ),
]
