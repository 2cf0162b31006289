"""MLflow's experiment calls: ``/api/2.0/mlflow/experiments/...``."""

from __future__ import annotations

from rest_framework.response import Response

from accounts.choices import TokenScope
from core.errors import Conflict
from integrations.mlflow.errors import ErrorCode, MlflowError, does_not_exist, invalid
from integrations.mlflow.tracking import services
from integrations.mlflow.tracking.answers import experiment_answer, to_ms
from integrations.mlflow.tracking.search import (
    filter_matches,
    filter_parse,
    order_apply,
    order_parse,
)
from integrations.mlflow.tracking.selectors import experiment_get, experiment_visible
from integrations.mlflow.tracking.views_base import key_value_list, next_token, page_slice
from integrations.mlflow.views import MlflowView
from integrations.models.mlflow import LifecycleStage

VIEW_TYPES = {"ACTIVE_ONLY": 1, "DELETED_ONLY": 2, "ALL": 3, "1": 1, "2": 2, "3": 3}


def view_type_of(view: MlflowView, request, name: str) -> int:
    raw = view.field(request, name, default="ACTIVE_ONLY")
    kind = VIEW_TYPES.get(str(raw).upper())
    if kind is None:
        raise invalid(f"Invalid value for parameter '{name}': {str(raw)[:40]}.")
    return kind


def stages_of(view_type: int) -> list[str]:
    return {
        1: [LifecycleStage.ACTIVE],
        2: [LifecycleStage.DELETED],
        3: [LifecycleStage.ACTIVE, LifecycleStage.DELETED],
    }[view_type]


class ExperimentCreateView(MlflowView):
    def post(self, request):
        name = self.text(request, "name", required=True, max_length=500)
        if self.text(request, "artifact_location"):
            raise invalid("Steward chooses where an experiment's artifacts are stored.")
        tags = key_value_list(self.field(request, "tags"), "tags")
        try:
            experiment = services.experiment_create(actor=request.user, name=name, tags=tags)
        except Conflict as exc:
            raise MlflowError(ErrorCode.RESOURCE_ALREADY_EXISTS, exc.message) from exc
        return Response({"experiment_id": str(experiment.pk)})


class ExperimentGetView(MlflowView):
    def get(self, request):
        experiment = experiment_get(
            request.user, self.text(request, "experiment_id", required=True)
        )
        return Response({"experiment": experiment_answer(experiment)})


class ExperimentGetByNameView(MlflowView):
    def get(self, request):
        name = self.text(request, "experiment_name", required=True, max_length=500)
        experiment = experiment_visible(request.user).filter(name=name).first()
        if experiment is None:
            raise does_not_exist(f"Could not find experiment with name '{name}'.")
        return Response({"experiment": experiment_answer(experiment)})


def _experiment_lookup(experiment):
    def lookup(kind: str, key: str):
        if kind == "tag":
            return experiment.tags.get(key)
        if kind == "attribute":
            attributes = {
                "name": experiment.name,
                "experiment_id": str(experiment.pk),
                "creation_time": to_ms(experiment.created_at),
                "last_update_time": to_ms(experiment.updated_at),
                "lifecycle_stage": experiment.lifecycle_stage,
            }
            if key not in attributes:
                raise invalid(f"Steward's experiment search does not read the attribute '{key}'.")
            return attributes[key]
        raise invalid(f"Experiments have no {kind}s to filter on.")

    return lookup


class ExperimentSearchView(MlflowView):
    # MLflow searches with POST; it reads, so a read token may.
    required_token_scopes = {"post": TokenScope.READ}

    def post(self, request):
        return self._search(request)

    def get(self, request):
        return self._search(request)

    def _search(self, request):
        clauses = filter_parse(self.text(request, "filter", max_length=4000))
        order = self.field(request, "order_by", default=[])
        order = order_parse([order] if isinstance(order, str) else order)
        offset, limit = page_slice(self, request)
        stages = stages_of(view_type_of(self, request, "view_type"))
        experiments = list(
            experiment_visible(request.user).filter(lifecycle_stage__in=stages).order_by("-pk")
        )
        matched = [e for e in experiments if filter_matches(clauses, _experiment_lookup(e))]
        matched = order_apply(matched, order, _experiment_lookup)
        page = matched[offset : offset + limit]
        return Response(
            {"experiments": [experiment_answer(e) for e in page]}
            | next_token(offset, limit, len(matched))
        )


class _ExperimentWriteView(MlflowView):
    def experiment(self, request):
        return experiment_get(request.user, self.text(request, "experiment_id", required=True))


class ExperimentUpdateView(_ExperimentWriteView):
    def post(self, request):
        experiment = self.experiment(request)
        new_name = self.text(request, "new_name", max_length=500)
        if new_name:
            try:
                services.experiment_rename(
                    actor=request.user, experiment=experiment, new_name=new_name
                )
            except Conflict as exc:
                raise MlflowError(ErrorCode.RESOURCE_ALREADY_EXISTS, exc.message) from exc
        return Response({})


class ExperimentDeleteView(_ExperimentWriteView):
    stage = LifecycleStage.DELETED

    def post(self, request):
        services.experiment_lifecycle_set(
            actor=request.user, experiment=self.experiment(request), stage=self.stage
        )
        return Response({})


class ExperimentRestoreView(ExperimentDeleteView):
    stage = LifecycleStage.ACTIVE


class ExperimentSetTagView(_ExperimentWriteView):
    def post(self, request):
        key = self.text(request, "key", required=True, max_length=250)
        value = self.text(request, "value", max_length=8000)
        services.experiment_tag_set(
            actor=request.user, experiment=self.experiment(request), key=key, value=value
        )
        return Response({})


class ExperimentDeleteTagView(_ExperimentWriteView):
    def post(self, request):
        key = self.text(request, "key", required=True, max_length=250)
        services.experiment_tag_set(
            actor=request.user, experiment=self.experiment(request), key=key, value=None
        )
        return Response({})
