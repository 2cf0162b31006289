"""Monitoring pages."""

from django.urls import path

from monitoring import views, views_retention

app_name = "monitoring"

urlpatterns = [
    path("monitoring/", views.dashboard, name="dashboard"),
    path(
        "monitoring/deployments/<slug:name>/",
        views.deployment_detail,
        name="deployment-detail",
    ),
    path(
        "monitoring/deployments/<slug:name>/checks/",
        views.deployment_checks_run,
        name="deployment-checks-run",
    ),
    path(
        "monitoring/deployments/<slug:name>/legal-hold/",
        views_retention.deployment_legal_hold,
        name="deployment-legal-hold",
    ),
    path(
        "monitoring/deployments/<slug:name>/retention/",
        views_retention.deployment_retention,
        name="deployment-retention",
    ),
    path("monitoring/predictions/", views.prediction_lookup, name="prediction-lookup"),
    path("monitoring/alerts/<int:pk>/", views.alert_detail, name="alert-detail"),
    path(
        "monitoring/alerts/<int:pk>/acknowledge/",
        views.alert_acknowledge,
        name="alert-acknowledge",
    ),
    path("monitoring/alerts/<int:pk>/resolve/", views.alert_resolve, name="alert-resolve"),
]
