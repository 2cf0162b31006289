"""MLflow tracking routes."""

urlpatterns: list = []
