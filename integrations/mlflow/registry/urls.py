"""MLflow registry routes."""

urlpatterns: list = []
