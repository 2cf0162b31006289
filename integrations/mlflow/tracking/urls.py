"""MLflow tracking routes, where the 3.x client calls them (``RestStore._METHOD_TO_INFO``)."""

from django.urls import path, re_path

from integrations.mlflow.tracking import views_experiments as e
from integrations.mlflow.tracking import views_logged_models as lm
from integrations.mlflow.tracking import views_runs as r

P = "api/2.0/mlflow/"
PR = r"api/2\.0/mlflow/"

urlpatterns = [
    path(
        f"{P}experiments/create", e.ExperimentCreateView.as_view(), name="mlflow-experiment-create"
    ),
    path(f"{P}experiments/get", e.ExperimentGetView.as_view(), name="mlflow-experiment-get"),
    path(
        f"{P}experiments/get-by-name",
        e.ExperimentGetByNameView.as_view(),
        name="mlflow-experiment-get-by-name",
    ),
    path(
        f"{P}experiments/search", e.ExperimentSearchView.as_view(), name="mlflow-experiment-search"
    ),
    path(
        f"{P}experiments/update", e.ExperimentUpdateView.as_view(), name="mlflow-experiment-update"
    ),
    path(
        f"{P}experiments/delete", e.ExperimentDeleteView.as_view(), name="mlflow-experiment-delete"
    ),
    path(
        f"{P}experiments/restore",
        e.ExperimentRestoreView.as_view(),
        name="mlflow-experiment-restore",
    ),
    path(
        f"{P}experiments/set-experiment-tag",
        e.ExperimentSetTagView.as_view(),
        name="mlflow-experiment-set-tag",
    ),
    path(
        f"{P}experiments/delete-experiment-tag",
        e.ExperimentDeleteTagView.as_view(),
        name="mlflow-experiment-delete-tag",
    ),
    path(f"{P}runs/create", r.RunCreateView.as_view(), name="mlflow-run-create"),
    path(f"{P}runs/get", r.RunGetView.as_view(), name="mlflow-run-get"),
    path(f"{P}runs/update", r.RunUpdateView.as_view(), name="mlflow-run-update"),
    path(f"{P}runs/delete", r.RunDeleteView.as_view(), name="mlflow-run-delete"),
    path(f"{P}runs/restore", r.RunRestoreView.as_view(), name="mlflow-run-restore"),
    path(f"{P}runs/search", r.RunSearchView.as_view(), name="mlflow-run-search"),
    path(f"{P}runs/log-metric", r.RunLogMetricView.as_view(), name="mlflow-run-log-metric"),
    path(f"{P}runs/log-parameter", r.RunLogParamView.as_view(), name="mlflow-run-log-parameter"),
    path(f"{P}runs/log-batch", r.RunLogBatchView.as_view(), name="mlflow-run-log-batch"),
    path(f"{P}runs/set-tag", r.RunSetTagView.as_view(), name="mlflow-run-set-tag"),
    path(f"{P}runs/delete-tag", r.RunDeleteTagView.as_view(), name="mlflow-run-delete-tag"),
    path(f"{P}runs/log-inputs", r.RunLogInputsView.as_view(), name="mlflow-run-log-inputs"),
    path(f"{P}runs/outputs", r.RunLogOutputsView.as_view(), name="mlflow-run-log-outputs"),
    path(f"{P}runs/log-model", r.RunLogModelView.as_view(), name="mlflow-run-log-model"),
    path(
        f"{P}metrics/get-history", r.MetricHistoryView.as_view(), name="mlflow-metric-get-history"
    ),
    path(
        f"{P}logged-models", lm.LoggedModelCreateView.as_view(), name="mlflow-logged-model-create"
    ),
    path(
        f"{P}logged-models/search",
        lm.LoggedModelSearchView.as_view(),
        name="mlflow-logged-model-search",
    ),
    re_path(
        rf"^{PR}logged-models/(?P<model_id>[^/]+)$",
        lm.LoggedModelDetailView.as_view(),
        name="mlflow-logged-model-detail",
    ),
    re_path(
        rf"^{PR}logged-models/(?P<model_id>[^/]+)/tags$",
        lm.LoggedModelTagsView.as_view(),
        name="mlflow-logged-model-tags",
    ),
    re_path(
        rf"^{PR}logged-models/(?P<model_id>[^/]+)/tags/(?P<tag_key>.+)$",
        lm.LoggedModelTagDeleteView.as_view(),
        name="mlflow-logged-model-tag-delete",
    ),
    re_path(
        rf"^{PR}logged-models/(?P<model_id>[^/]+)/params$",
        lm.LoggedModelParamsView.as_view(),
        name="mlflow-logged-model-params",
    ),
]
