"""``/api/2.0/mlflow/registered-models/...``: Steward's registered models as MLflow's client
sees them. Each view parses MLflow's fields, calls one service or selector, and answers
MLflow's JSON (``answers``); refusals are MLflow's error body (``integrations.mlflow.errors``).
"""

from __future__ import annotations

from rest_framework.response import Response

from accounts.api.permissions import request_token_scopes
from accounts.choices import TokenScope
from core.errors import Conflict
from governance.services.aliases import model_alias_delete, model_alias_set
from governance.services.deletion import registered_model_delete
from integrations.mlflow.errors import ErrorCode, MlflowError, invalid
from integrations.mlflow.registry import selectors
from integrations.mlflow.registry.answers import (
    latest_versions,
    model_version_answer,
    registered_model_answer,
    stage_canonical,
)
from integrations.mlflow.registry.search_filter import registered_model_where
from integrations.mlflow.registry.services import (
    mlflow_model_tag_delete,
    mlflow_model_tag_set,
    mlflow_registered_model_create,
)
from integrations.mlflow.registry.views_base import RegistryView
from registry.selectors import model_alias_version
from registry.services import registered_model_update


def _model_answer(request, name: str) -> Response:
    return Response(
        {
            "registered_model": registered_model_answer(
                selectors.mlflow_model_get(request.user, name)
            )
        }
    )


class RegisteredModelCreateView(RegistryView):
    def post(self, request):
        name = self.name(request)
        try:
            mlflow_registered_model_create(
                actor=request.user,
                name=name,
                description=self.text(request, "description", max_length=100_000),
                tags=self.tags(request),
            )
        except Conflict as exc:
            # Names are unique across teams: MLflow's register_model tolerates exactly this
            # code and goes on to create the version, which the model's team rules decide.
            if "name" not in exc.field_errors:
                raise
            raise MlflowError(ErrorCode.RESOURCE_ALREADY_EXISTS, exc.message) from exc
        return _model_answer(request, name)


class RegisteredModelGetView(RegistryView):
    def get(self, request):
        return _model_answer(request, self.name(request))


class RegisteredModelSearchView(RegistryView):
    def get(self, request):
        page, following = self.search_page(
            request,
            selectors.mlflow_model_list(request.user),
            where=registered_model_where,
            order_fields={
                "name": "name",
                "timestamp": "updated_at",
                "last_updated_timestamp": "updated_at",
            },
            tiebreak=("name",),
            default_max=100,
        )
        return Response(
            {
                "registered_models": [registered_model_answer(model) for model in page],
                "next_page_token": following,
            }
        )


class RegisteredModelUpdateView(RegistryView):
    def patch(self, request):
        name = self.name(request)
        model = selectors.mlflow_model_bare(request.user, name)
        registered_model_update(
            actor=request.user,
            model=model,
            description=self.optional_text(request, "description"),
        )
        return _model_answer(request, name)


class RegisteredModelRenameView(RegistryView):
    def post(self, request):
        model = selectors.mlflow_model_bare(request.user, self.name(request))
        self.text(request, "new_name", required=True, max_length=256)
        raise invalid(
            f"Steward does not rename models: '{model.name}' is the model's identity in its "
            "audit trail, documents, decisions and deployments. Register the new name as a "
            "new model."
        )


class RegisteredModelDeleteView(RegistryView):
    def delete(self, request):
        model = selectors.mlflow_model_bare(request.user, self.name(request))
        registered_model_delete(
            actor=request.user, model=model, token_scopes=request_token_scopes(request)
        )
        return Response({})


class RegisteredModelTagSetView(RegistryView):
    def post(self, request):
        mlflow_model_tag_set(
            actor=request.user,
            model=selectors.mlflow_model_bare(request.user, self.name(request)),
            key=self.text(request, "key", required=True, max_length=250),
            value=self.text(request, "value", max_length=5000),
        )
        return Response({})


class RegisteredModelTagDeleteView(RegistryView):
    def delete(self, request):
        mlflow_model_tag_delete(
            actor=request.user,
            model=selectors.mlflow_model_bare(request.user, self.name(request)),
            key=self.text(request, "key", required=True, max_length=250),
        )
        return Response({})


class RegisteredModelLatestVersionsView(RegistryView):
    """POST (GET after the client's ENDPOINT_NOT_FOUND fallback): the newest version in each
    asked stage, stages derived from the workflow's states. A read, whatever the method: a
    read-only token may ask."""

    required_token_scopes = {"post": TokenScope.READ}

    def post(self, request):
        model = selectors.mlflow_model_get(request.user, self.name(request))
        stages = []
        for stage in self.text_list(request, "stages"):
            canonical = stage_canonical(stage)
            if canonical is None:
                raise invalid(
                    f"Invalid Model Version stage: {stage}. Value must be one of None, "
                    "Staging, Production, Archived."
                )
            stages.append(canonical)
        versions = latest_versions(model.versions.all(), stages)
        return Response({"model_versions": [model_version_answer(v) for v in versions]})

    get = post


class RegisteredModelAliasView(RegistryView):
    """POST sets an alias, DELETE removes it (both through governance's alias services, which
    decide who may move a protected alias and to which states), GET answers its version."""

    def _motivation(self, request, verb: str, name: str, alias: str) -> str:
        return (
            f"MLflow client call registered-models/alias ({verb}) by {request.user.username}: "
            f"{name}@{alias}."
        )

    def get(self, request):
        model = selectors.mlflow_model_bare(request.user, self.name(request))
        alias = self.text(request, "alias", required=True, max_length=255)
        found = model_alias_version(user=request.user, model=model, alias=alias)
        version = selectors.mlflow_version_get(request.user, model.name, found.version)
        return Response({"model_version": model_version_answer(version)})

    def post(self, request):
        name = self.name(request)
        alias = self.text(request, "alias", required=True, max_length=255)
        number = self.version_number(request)
        version = selectors.mlflow_version_get(request.user, name, number)
        model_alias_set(
            actor=request.user,
            model=version.registered_model,
            alias=alias,
            version=version,
            motivation=self._motivation(request, f"set to version {number}", name, alias),
            token_scopes=request_token_scopes(request),
        )
        return Response({})

    def delete(self, request):
        model = selectors.mlflow_model_bare(request.user, self.name(request))
        alias = self.text(request, "alias", required=True, max_length=255)
        model_alias_delete(
            actor=request.user,
            model=model,
            alias=alias,
            motivation=self._motivation(request, "delete", model.name, alias),
            token_scopes=request_token_scopes(request),
        )
        return Response({})
