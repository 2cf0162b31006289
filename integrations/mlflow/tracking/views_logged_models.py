"""MLflow 3's logged-model calls: ``/api/2.0/mlflow/logged-models[/<id>[/tags|/params]]``."""

from __future__ import annotations

from rest_framework.response import Response

from accounts.choices import TokenScope
from integrations.mlflow.errors import does_not_exist, invalid
from integrations.mlflow.tracking import logged_models as services
from integrations.mlflow.tracking.answers import logged_model_answer, metric_answer, to_ms
from integrations.mlflow.tracking.search import (
    filter_matches,
    filter_parse,
    order_apply,
    order_parse,
)
from integrations.mlflow.tracking.selectors import (
    experiment_get,
    logged_model_get,
    logged_model_visible,
    run_get,
)
from integrations.mlflow.tracking.views_base import key_value_list, next_token, page_slice
from integrations.mlflow.views import MlflowView
from integrations.models.mlflow import LifecycleStage, LoggedModelStatus, MlflowMetric

# By name (protobuf's JSON) or number (LoggedModelStatus in MLflow's service.proto).
STATUSES = {
    "LOGGED_MODEL_PENDING": LoggedModelStatus.PENDING,
    "LOGGED_MODEL_READY": LoggedModelStatus.READY,
    "LOGGED_MODEL_UPLOAD_FAILED": LoggedModelStatus.FAILED,
    "1": LoggedModelStatus.PENDING,
    "2": LoggedModelStatus.READY,
    "3": LoggedModelStatus.FAILED,
}


def _answers(models) -> list[dict]:
    ids = [m.model_id for m in models]
    metrics: dict[str, list] = {model_id: [] for model_id in ids}
    for row in MlflowMetric.objects.filter(model_id__in=ids).select_related("run"):
        metrics[row.model_id].append(metric_answer(row) | {"run_id": row.run.uuid.hex})
    answers = []
    for model in models:
        answer = logged_model_answer(model)
        answer["data"]["metrics"] = metrics[model.model_id]
        answers.append(answer)
    return answers


class LoggedModelCreateView(MlflowView):
    def post(self, request):
        experiment = experiment_get(
            request.user, self.text(request, "experiment_id", required=True)
        )
        run_id = self.text(request, "source_run_id", max_length=100)
        logged_model = services.logged_model_create(
            actor=request.user,
            experiment=experiment,
            name=self.text(request, "name", max_length=250),
            model_type=self.text(request, "model_type", max_length=100),
            source_run=run_get(request.user, run_id) if run_id else None,
            params=key_value_list(self.field(request, "params"), "params"),
            tags=key_value_list(self.field(request, "tags"), "tags"),
        )
        return Response({"model": _answers([logged_model])[0]})


class LoggedModelDetailView(MlflowView):
    def get(self, request, model_id: str):
        logged_model = logged_model_get(request.user, model_id)
        allow_deleted = str(self.field(request, "allow_deleted", default="")).lower() == "true"
        if logged_model.lifecycle_stage != LifecycleStage.ACTIVE and not allow_deleted:
            raise does_not_exist(f"Logged model {model_id} is deleted.")
        return Response({"model": _answers([logged_model])[0]})

    def patch(self, request, model_id: str):
        raw = self.field(request, "status", required=True)
        status = STATUSES.get(str(raw))
        if status is None:
            raise invalid(f"Unknown logged model status '{str(raw)[:40]}'.")
        logged_model = services.logged_model_finalize(
            actor=request.user,
            logged_model=logged_model_get(request.user, model_id),
            status=status,
        )
        return Response({"model": _answers([logged_model])[0]})

    def delete(self, request, model_id: str):
        services.logged_model_delete(
            actor=request.user, logged_model=logged_model_get(request.user, model_id)
        )
        return Response({})


class LoggedModelTagsView(MlflowView):
    def patch(self, request, model_id: str):
        services.logged_model_update(
            actor=request.user,
            logged_model=logged_model_get(request.user, model_id),
            tags=key_value_list(self.field(request, "tags"), "tags"),
        )
        return Response({})


class LoggedModelTagDeleteView(MlflowView):
    def delete(self, request, model_id: str, tag_key: str):
        services.logged_model_update(
            actor=request.user,
            logged_model=logged_model_get(request.user, model_id),
            deleted_tag=tag_key,
        )
        return Response({})


class LoggedModelParamsView(MlflowView):
    def post(self, request, model_id: str):
        services.logged_model_update(
            actor=request.user,
            logged_model=logged_model_get(request.user, model_id),
            params=key_value_list(self.field(request, "params"), "params"),
        )
        return Response({})


def _model_lookup(model):
    def lookup(kind: str, key: str):
        if kind == "tag":
            return model.tags.get(key)
        if kind == "param":
            return model.params.get(key)
        if kind == "attribute":
            attributes = {
                "name": model.name,
                "model_id": model.model_id,
                "model_type": model.model_type,
                "status": model.status,
                "source_run_id": model.run.uuid.hex if model.run else None,
                "creation_timestamp": to_ms(model.created_at),
                "creation_time": to_ms(model.created_at),
                "last_updated_timestamp": to_ms(model.updated_at),
            }
            if key not in attributes:
                raise invalid(f"Steward's logged model search does not read '{key}'.")
            return attributes[key]
        raise invalid("Steward's logged model search does not filter on metrics.")

    return lookup


class LoggedModelSearchView(MlflowView):
    # MLflow searches with POST; it reads, so a read token may.
    required_token_scopes = {"post": TokenScope.READ}

    def post(self, request):
        ids = self.field(request, "experiment_ids", default=[])
        if not isinstance(ids, list) or len(ids) > 1000:
            raise invalid("experiment_ids is a list of experiment ids.")
        experiments = [experiment_get(request.user, i) for i in ids]
        clauses = filter_parse(self.text(request, "filter", max_length=4000))
        order = []
        for term in self.field(request, "order_by", default=[]) or []:
            if not isinstance(term, dict) or not isinstance(term.get("field_name"), str):
                raise invalid("Each order_by term needs a field_name.")
            direction = "ASC" if term.get("ascending", True) else "DESC"
            order.append(f"{term['field_name']} {direction}")
        order = order_parse(order)
        offset, limit = page_slice(self, request, default=100)
        models = list(
            logged_model_visible(request.user)
            .filter(experiment__in=experiments, lifecycle_stage=LifecycleStage.ACTIVE)
            .order_by("-created_at", "-pk")
        )
        matched = [m for m in models if filter_matches(clauses, _model_lookup(m))]
        matched = order_apply(matched, order, _model_lookup)
        page = matched[offset : offset + limit]
        return Response({"models": _answers(page)} | next_token(offset, limit, len(matched)))
