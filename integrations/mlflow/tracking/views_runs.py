"""MLflow's run calls: ``/api/2.0/mlflow/runs/...`` and ``metrics/get-history``."""

from __future__ import annotations

import json
import math

from rest_framework.response import Response

from accounts.choices import TokenScope
from integrations.mlflow.errors import does_not_exist, invalid
from integrations.mlflow.tracking import constants as c
from integrations.mlflow.tracking import services
from integrations.mlflow.tracking.answers import metric_answer, to_ms
from integrations.mlflow.tracking.datasets import logged_dataset_read
from integrations.mlflow.tracking.logged_models import logged_model_outputs_link
from integrations.mlflow.tracking.search import (
    filter_matches,
    filter_parse,
    order_apply,
    order_parse,
)
from integrations.mlflow.tracking.selectors import (
    experiment_get,
    logged_model_get,
    metric_history,
    metrics_latest,
    run_get,
    run_visible,
)
from integrations.mlflow.tracking.views_base import (
    key_value_list,
    next_token,
    page_slice,
    runs_answers,
)
from integrations.mlflow.tracking.views_experiments import stages_of, view_type_of
from integrations.mlflow.views import MlflowView
from integrations.models.mlflow import LifecycleStage


class _RunView(MlflowView):
    def mlflow_run(self, request):
        run_id = self.text(request, "run_id", max_length=100) or self.text(
            request, "run_uuid", max_length=100
        )
        if not run_id:
            raise invalid("Missing value for required parameter 'run_id'.")
        return run_get(request.user, run_id)

    def answer(self, mlflow_run):
        return Response({"run": runs_answers([mlflow_run])[0]})


def _number(value, name: str, *, integer: bool = False):
    if isinstance(value, bool) or value is None:
        raise invalid(f"'{name}' must be a number.")
    try:
        number = int(str(value)) if integer else float(value)
    except (TypeError, ValueError) as exc:
        raise invalid(f"'{name}' must be a number.") from exc
    if integer and abs(number) > 2**63 - 1:
        raise invalid(f"'{name}' is out of range.")
    return number


def metric_point(raw) -> services.MetricPoint:
    if not isinstance(raw, dict):
        raise invalid("Each metric is an object with key, value, timestamp and step.")
    key = raw.get("key")
    if not isinstance(key, str) or not key:
        raise invalid("A metric needs a key.")
    value = raw.get("value")
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
        value = float(value.replace("Infinity", "inf"))
    model_id = raw.get("model_id") or ""
    if not isinstance(model_id, str) or len(model_id) > 64:
        raise invalid("A metric's model_id must be a logged model id.")
    return services.MetricPoint(
        key=key,
        value=_number(value, f"metric '{key[:80]}'"),
        timestamp=_number(raw.get("timestamp", 0), "timestamp", integer=True),
        step=_number(raw.get("step", 0) or 0, "step", integer=True),
        model_id=model_id,
    )


class RunCreateView(MlflowView):
    def post(self, request):
        experiment_id = self.text(request, "experiment_id") or "0"
        if experiment_id == "0":
            raise does_not_exist(
                "Steward has no default experiment '0': call mlflow.set_experiment() with a "
                "name your team may use (it is created in your team)."
            )
        experiment = experiment_get(request.user, experiment_id)
        start_time = self.integer(request, "start_time")
        mlflow_run = services.mlflow_run_create(
            actor=request.user,
            experiment=experiment,
            run_name=self.text(request, "run_name", max_length=250),
            start_time=start_time,
            tags=key_value_list(self.field(request, "tags"), "tags"),
        )
        return Response({"run": runs_answers([mlflow_run])[0]})


class RunGetView(_RunView):
    def get(self, request):
        return self.answer(self.mlflow_run(request))


class RunUpdateView(_RunView):
    def post(self, request):
        mlflow_run = services.mlflow_run_update(
            actor=request.user,
            mlflow_run=self.mlflow_run(request),
            status=self.text(request, "status", max_length=20) or None,
            end_time=self.integer(request, "end_time"),
            run_name=self.text(request, "run_name", max_length=250) or None,
        )
        return Response({"run_info": runs_answers([mlflow_run])[0]["info"]})


class RunDeleteView(_RunView):
    stage = LifecycleStage.DELETED

    def post(self, request):
        services.mlflow_run_lifecycle_set(
            actor=request.user, mlflow_run=self.mlflow_run(request), stage=self.stage
        )
        return Response({})


class RunRestoreView(RunDeleteView):
    stage = LifecycleStage.ACTIVE


class RunLogBatchView(_RunView):
    def post(self, request):
        metrics = self.field(request, "metrics", default=[])
        params = self.field(request, "params", default=[])
        if not isinstance(metrics, list) or not isinstance(params, list):
            raise invalid("metrics and params are lists.")
        if len(metrics) > c.MAX_BATCH_METRICS or len(params) > c.MAX_BATCH_PARAMS:
            raise invalid(
                f"A batch holds at most {c.MAX_BATCH_METRICS} metrics, "
                f"{c.MAX_BATCH_PARAMS} params and {c.MAX_BATCH_TAGS} tags."
            )
        tags = key_value_list(self.field(request, "tags"), "tags")
        if len(tags) > c.MAX_BATCH_TAGS:
            raise invalid(f"A batch holds at most {c.MAX_BATCH_TAGS} tags.")
        services.mlflow_run_log(
            actor=request.user,
            mlflow_run=self.mlflow_run(request),
            metrics=[metric_point(m) for m in metrics],
            params=key_value_list(params, "params"),
            tags=tags,
        )
        return Response({})


class RunLogMetricView(_RunView):
    def post(self, request):
        point = metric_point(self.params(request))
        services.mlflow_run_log(
            actor=request.user, mlflow_run=self.mlflow_run(request), metrics=[point]
        )
        return Response({})


class RunLogParamView(_RunView):
    def post(self, request):
        key = self.text(request, "key", required=True, max_length=c.MAX_KEY_LENGTH)
        value = self.text(request, "value", max_length=c.MAX_PARAM_VALUE_LENGTH)
        services.mlflow_run_log(
            actor=request.user, mlflow_run=self.mlflow_run(request), params={key: value}
        )
        return Response({})


class RunSetTagView(_RunView):
    def post(self, request):
        key = self.text(request, "key", required=True, max_length=c.MAX_KEY_LENGTH)
        value = self.text(request, "value", max_length=c.MAX_TAG_VALUE_LENGTH)
        services.mlflow_run_log(
            actor=request.user, mlflow_run=self.mlflow_run(request), tags={key: value}
        )
        return Response({})


class RunDeleteTagView(_RunView):
    def post(self, request):
        key = self.text(request, "key", required=True, max_length=c.MAX_KEY_LENGTH)
        services.mlflow_run_log(
            actor=request.user, mlflow_run=self.mlflow_run(request), deleted_tags=[key]
        )
        return Response({})


class RunLogInputsView(_RunView):
    def post(self, request):
        datasets = self.field(request, "datasets", default=[])
        if not isinstance(datasets, list) or len(datasets) > 100:
            raise invalid("datasets is a list of at most 100 dataset inputs.")
        services.mlflow_run_inputs_log(
            actor=request.user,
            mlflow_run=self.mlflow_run(request),
            datasets=[logged_dataset_read(entry) for entry in datasets],
        )
        return Response({})


class RunLogOutputsView(_RunView):
    def post(self, request):
        models = self.field(request, "models", default=[])
        if not isinstance(models, list) or len(models) > 100:
            raise invalid("models is a list of at most 100 model outputs.")
        mlflow_run = self.mlflow_run(request)
        logged = []
        for entry in models:
            if not isinstance(entry, dict) or not isinstance(entry.get("model_id"), str):
                raise invalid("Each model output needs a model_id.")
            logged.append(logged_model_get(request.user, entry["model_id"]))
        logged_model_outputs_link(actor=request.user, mlflow_run=mlflow_run, logged_models=logged)
        return Response({})


HISTORY_TAG = "mlflow.log-model.history"


class RunLogModelView(_RunView):
    """The legacy ``runs/log-model``: the model's MLmodel JSON, kept as MLflow's server keeps
    it, in the run's ``mlflow.log-model.history`` tag."""

    def post(self, request):
        model_json = self.text(request, "model_json", required=True, max_length=100_000)
        mlflow_run = self.mlflow_run(request)
        try:
            model = json.loads(model_json)
        except ValueError as exc:
            raise invalid("model_json is not JSON.") from exc
        try:
            history = json.loads(mlflow_run.tags.get(HISTORY_TAG) or "[]")
        except ValueError:
            history = []
        history = [*(history if isinstance(history, list) else []), model]
        text = json.dumps(history)
        while len(text) > c.MAX_TAG_VALUE_LENGTH and len(history) > 1:
            history.pop(0)  # the tag keeps the latest models that fit, as valid JSON
            text = json.dumps(history)
        if len(text) > c.MAX_TAG_VALUE_LENGTH:
            raise invalid("model_json is too large for the run's log-model history.")
        services.mlflow_run_log(actor=request.user, mlflow_run=mlflow_run, tags={HISTORY_TAG: text})
        return Response({})


def _run_lookup(latest):
    def lookup_of(mlflow_run):
        run = mlflow_run.run

        def lookup(kind: str, key: str):
            if kind == "tag":
                return mlflow_run.tags.get(key)
            if kind == "param":
                return run.params.get(key)
            if kind == "metric":
                row = latest[run.pk].get(key)
                return None if row is None or math.isnan(row.value) else row.value
            attributes = {
                "status": c.STEWARD_TO_MLFLOW_STATUS.get(run.status),
                "run_name": mlflow_run.run_name,
                "run_id": run.uuid.hex,
                "user_id": run.created_by.username,
                "start_time": to_ms(run.started_at),
                "end_time": to_ms(run.ended_at),
                "lifecycle_stage": mlflow_run.lifecycle_stage,
                "created": to_ms(run.created_at),
                "Created": to_ms(run.created_at),
            }
            if key not in attributes:
                raise invalid(f"Steward's run search does not read the attribute '{key}'.")
            return attributes[key]

        return lookup

    return lookup_of


class RunSearchView(MlflowView):
    # MLflow searches with POST; it reads, so a read token may.
    required_token_scopes = {"post": TokenScope.READ}

    def post(self, request):
        ids = self.field(request, "experiment_ids", default=[])
        if isinstance(ids, str):
            ids = [ids]
        if not isinstance(ids, list) or not ids or len(ids) > 1000:
            raise invalid("experiment_ids is a list of one or more experiment ids.")
        experiments = [experiment_get(request.user, i) for i in ids]
        clauses = filter_parse(self.text(request, "filter", max_length=4000))
        order = self.field(request, "order_by", default=[])
        order = order_parse([order] if isinstance(order, str) else order)
        offset, limit = page_slice(self, request)
        stages = stages_of(view_type_of(self, request, "run_view_type"))
        candidates = list(
            run_visible(request.user)
            .filter(experiment__in=experiments, lifecycle_stage__in=stages)
            .order_by("-run__started_at", "-run__pk")
        )
        latest = metrics_latest([m.run.pk for m in candidates])
        lookup_of = _run_lookup(latest)
        matched = [m for m in candidates if filter_matches(clauses, lookup_of(m))]
        matched = order_apply(matched, order, lookup_of)
        page = matched[offset : offset + limit]
        return Response({"runs": runs_answers(page)} | next_token(offset, limit, len(matched)))


class MetricHistoryView(_RunView):
    def get(self, request):
        mlflow_run = self.mlflow_run(request)
        key = self.text(request, "metric_key", required=True, max_length=c.MAX_KEY_LENGTH)
        offset, limit = page_slice(self, request, default=25000)
        history = metric_history(mlflow_run.run, key)
        rows = list(history[offset : offset + limit + 1])
        answer = {"metrics": [metric_answer(row) for row in rows[:limit]]}
        if len(rows) > limit:
            answer |= next_token(offset, limit, offset + limit + 1)
        return Response(answer)
