from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """Deployments, prediction logging, checks and alerts (issue 6 onwards)."""

    name = "monitoring"
    verbose_name = "Monitoring"
