"""Monitoring under /api/v1/."""

app_name = "monitoring-api"

urlpatterns: list = []
