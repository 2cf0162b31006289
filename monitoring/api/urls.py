"""Monitoring under /api/v1/."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from monitoring.api import alerting, views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("deployments", views.DeploymentViewSet, basename="deployment")
router.register("kpis", views.KpiViewSet, basename="kpi")
router.register("alerts", views.AlertViewSet, basename="alert")
router.register("alert-rules", alerting.AlertRuleViewSet, basename="alert-rule")
router.register("alert-channels", alerting.AlertChannelViewSet, basename="alert-channel")

deployment = "deployments/<slug:name>/"
LIST_AND_CREATE = {"get": "list", "post": "create"}
urlpatterns = [
    path("", include(router.urls)),
    path(
        f"{deployment}predictions/",
        views.PredictionLogViewSet.as_view(LIST_AND_CREATE),
        name="prediction-log",
    ),
    path(f"{deployment}feedback/", views.FeedbackView.as_view(), name="prediction-feedback"),
    path(
        f"{deployment}checks/",
        views.CheckResultViewSet.as_view(LIST_AND_CREATE),
        name="check-results",
    ),
    path(f"{deployment}health/", views.HealthView.as_view(), name="deployment-health"),
    path(
        "alerts/<int:alert_pk>/events/",
        views.AlertEventViewSet.as_view({"get": "list"}),
        name="alert-events",
    ),
    path(
        "predictions/<str:request_id>/",
        views.PredictionTraceView.as_view(),
        name="prediction-trace",
    ),
    path(
        "models/<str:model_name>/versions/<int:version>/baselines/",
        views.BaselineView.as_view(),
        name="baselines",
    ),
]
