"""The aliases of a model: ``/api/v1/models/{name}/aliases/`` lists them, ``.../{alias}/``
reads one (``GET``), points it at a version (``PUT {"version", "motivation"}``) or removes it
(``DELETE {"motivation"}``).

Reading needs view permission on the model (else 404). Writes follow
``governance.services.aliases``: a protected alias needs an approved or production version
(409) and the deploy verb (403; a token, the ``deploy`` scope); any other alias the change verb
on the model (a token, the ``write`` scope); every move a written motivation (400)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import SCOPE_CHECKED_BY_SERVICE, request_token_scopes
from core.errors import InvalidInput, NotFound
from governance.forms import MAX_MOTIVATION
from governance.services.aliases import alias_is_protected, model_alias_delete, model_alias_set
from registry import selectors as registry_selectors
from registry.models import ModelAlias, RegisteredModel


class ModelAliasSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="registered_model.name", read_only=True)
    alias = serializers.CharField(source="name", read_only=True)
    version = serializers.IntegerField(source="version.version", read_only=True)
    version_status = serializers.CharField(source="version.status", read_only=True)
    protected = serializers.SerializerMethodField()
    set_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ModelAlias
        fields = [
            "model",
            "alias",
            "version",
            "version_status",
            "protected",
            "set_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_protected(self, obj) -> bool:
        return alias_is_protected(obj.name)


class ModelAliasSetSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    motivation = serializers.CharField(max_length=MAX_MOTIVATION, allow_blank=True)


class ModelAliasDeleteSerializer(serializers.Serializer):
    motivation = serializers.CharField(max_length=MAX_MOTIVATION, allow_blank=True)


def _model(request, model_name: str) -> RegisteredModel:
    return get_object_or_404(
        registry_selectors.registered_model_visible(request.user), name=model_name
    )


def _alias_of(model: RegisteredModel, alias: str) -> ModelAlias:
    found = next((a for a in registry_selectors.model_aliases(model) if a.name == alias), None)
    if found is None:
        raise NotFound(f"{model.name} has no alias '{alias}'.")
    return found


def _answer(model: RegisteredModel, alias: ModelAlias) -> dict:
    alias.registered_model = model
    return ModelAliasSerializer(alias).data


@extend_schema(tags=["models"], responses=ModelAliasSerializer(many=True))
class ModelAliasListView(APIView):
    """Every alias of the model, by name, with the version it points at."""

    def get(self, request, model_name: str):
        model = _model(request, model_name)
        aliases = registry_selectors.model_aliases(model)
        return Response([_answer(model, alias) for alias in aliases])


@extend_schema(tags=["models"])
class ModelAliasDetailView(APIView):
    """One alias of the model: read it, point it at a version, or remove it."""

    # The scope depends on the alias (deploy for a protected one, write for any other).
    required_token_scopes = {"put": SCOPE_CHECKED_BY_SERVICE, "delete": SCOPE_CHECKED_BY_SERVICE}

    @extend_schema(responses=ModelAliasSerializer)
    def get(self, request, model_name: str, alias: str):
        model = _model(request, model_name)
        return Response(_answer(model, _alias_of(model, alias)))

    @extend_schema(request=ModelAliasSetSerializer, responses=ModelAliasSerializer)
    def put(self, request, model_name: str, alias: str):
        model = _model(request, model_name)
        serializer = ModelAliasSetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        version = (
            registry_selectors.model_version_list(request.user)
            .filter(registered_model=model, version=data["version"])
            .first()
        )
        if version is None:
            raise InvalidInput(
                f"{model.name} has no version {data['version']}.",
                field_errors={"version": ["No such version of this model."]},
            )
        model_alias_set(
            actor=request.user,
            model=model,
            alias=alias,
            version=version,
            motivation=data["motivation"],
            token_scopes=request_token_scopes(request),
        )
        return Response(_answer(model, _alias_of(model, alias)))

    @extend_schema(request=ModelAliasDeleteSerializer, responses={204: None})
    def delete(self, request, model_name: str, alias: str):
        model = _model(request, model_name)
        serializer = ModelAliasDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        model_alias_delete(
            actor=request.user,
            model=model,
            alias=alias,
            motivation=serializer.validated_data["motivation"],
            token_scopes=request_token_scopes(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
