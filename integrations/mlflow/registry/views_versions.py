"""``/api/2.0/mlflow/model-versions/...``: Steward's model versions as MLflow's client sees
them. A version created here is a draft in Steward's workflow; a stage transition is a workflow
decision (``stages``); deletion follows Steward's deletion rules."""

from __future__ import annotations

from rest_framework.response import Response

from accounts.api.permissions import SCOPE_CHECKED_BY_SERVICE, request_token_scopes
from accounts.choices import TokenScope
from governance.services.deletion import model_version_delete
from integrations.mlflow.errors import ErrorCode, MlflowError, invalid
from integrations.mlflow.registry import selectors
from integrations.mlflow.registry.answers import model_version_answer, version_source
from integrations.mlflow.registry.search_filter import model_version_where
from integrations.mlflow.registry.services import (
    mlflow_model_version_create,
    mlflow_version_tag_delete,
    mlflow_version_tag_set,
)
from integrations.mlflow.registry.stages import mlflow_version_stage_transition
from integrations.mlflow.registry.views_base import RegistryView
from integrations.mlflow.sources import artifact_proxy_url
from registry.services import model_version_update

# The scopes of some workflow decision; a token with none of them may not ask for a stage.
DECISION_SCOPES = {
    TokenScope.WRITE,
    TokenScope.SUBMIT,
    TokenScope.VALIDATE,
    TokenScope.APPROVE,
    TokenScope.DEPLOY,
}


def _version_answer(request, name: str, number: int) -> Response:
    version = selectors.mlflow_version_get(request.user, name, number)
    return Response({"model_version": model_version_answer(version)})


class ModelVersionCreateView(RegistryView):
    def post(self, request):
        name = self.name(request)
        source = self.text(request, "source", required=True, max_length=1000)
        if "\n" in source or "\r" in source:
            raise invalid("Invalid value for parameter 'source': it holds a line break.")
        version = mlflow_model_version_create(
            actor=request.user,
            model=selectors.mlflow_model_bare(request.user, name),
            source=source,
            run_id=self.text(request, "run_id", max_length=64),
            description=self.text(request, "description", max_length=100_000),
            tags=self.tags(request),
        )
        return _version_answer(request, name, version.version)


class ModelVersionGetView(RegistryView):
    def get(self, request):
        return _version_answer(request, self.name(request), self.version_number(request))


class ModelVersionSearchView(RegistryView):
    def get(self, request):
        page, following = self.search_page(
            request,
            selectors.mlflow_version_list(request.user),
            where=model_version_where,
            order_fields={
                "name": "registered_model__name",
                "version_number": "version",
                "creation_timestamp": "created_at",
                "timestamp": "updated_at",
                "last_updated_timestamp": "updated_at",
            },
            tiebreak=("registered_model__name", "-version"),
            default_max=1000,
        )
        return Response(
            {
                "model_versions": [model_version_answer(version) for version in page],
                "next_page_token": following,
            }
        )


class ModelVersionUpdateView(RegistryView):
    def patch(self, request):
        name, number = self.name(request), self.version_number(request)
        model_version_update(
            actor=request.user,
            version=selectors.mlflow_version_get(request.user, name, number),
            description=self.optional_text(request, "description"),
        )
        return _version_answer(request, name, number)


class ModelVersionDeleteView(RegistryView):
    def delete(self, request):
        version = selectors.mlflow_version_get(
            request.user, self.name(request), self.version_number(request)
        )
        model_version_delete(
            actor=request.user, version=version, token_scopes=request_token_scopes(request)
        )
        return Response({})


class ModelVersionDownloadUriView(RegistryView):
    """Where the client downloads the version's files: Steward's artifact proxy for files it
    holds, the source itself for a version registered by reference."""

    def get(self, request):
        version = selectors.mlflow_version_get(
            request.user, self.name(request), self.version_number(request)
        )
        source = getattr(version, "mlflow_source", None)
        if source is not None and source.storage_root:
            return Response({"artifact_uri": artifact_proxy_url(request, source.storage_root)})
        return Response({"artifact_uri": version_source(version)})


class ModelVersionTransitionStageView(RegistryView):
    """The legacy stage transition, as the workflow decision that leads to the stage; the
    token's scope is the decision's, checked by the workflow once the version is locked."""

    required_token_scopes = {"post": SCOPE_CHECKED_BY_SERVICE}

    def post(self, request):
        scopes = request_token_scopes(request)
        if scopes is not None and not DECISION_SCOPES & set(scopes):
            raise MlflowError(
                ErrorCode.PERMISSION_DENIED,
                "This API token may only read: a stage transition is a workflow decision.",
            )
        name, number = self.name(request), self.version_number(request)
        stage = self.text(request, "stage", required=True, max_length=32)
        archive = self.field(request, "archive_existing_versions", default=False)
        if not isinstance(archive, bool):
            raise invalid("Parameter 'archive_existing_versions' must be true or false.")
        mlflow_version_stage_transition(
            actor=request.user,
            version=selectors.mlflow_version_get(request.user, name, number),
            stage=stage,
            archive_existing_versions=archive,
            token_scopes=request_token_scopes(request),
        )
        return _version_answer(request, name, number)


class ModelVersionTagSetView(RegistryView):
    def post(self, request):
        mlflow_version_tag_set(
            actor=request.user,
            version=selectors.mlflow_version_get(
                request.user, self.name(request), self.version_number(request)
            ),
            key=self.text(request, "key", required=True, max_length=250),
            value=self.text(request, "value", max_length=5000),
        )
        return Response({})


class ModelVersionTagDeleteView(RegistryView):
    def delete(self, request):
        mlflow_version_tag_delete(
            actor=request.user,
            version=selectors.mlflow_version_get(
                request.user, self.name(request), self.version_number(request)
            ),
            key=self.text(request, "key", required=True, max_length=250),
        )
        return Response({})
