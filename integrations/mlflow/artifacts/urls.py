"""MLflow artifacts routes."""

urlpatterns: list = []
