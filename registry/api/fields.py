"""Serializer fields that resolve natural-key references to registry rows."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registry import selectors
from registry.choices import DatasetRole


def _user(field: serializers.Field):
    return field.context["request"].user


@extend_schema_field(OpenApiTypes.STR)
class ScopedSlugRelatedField(serializers.SlugRelatedField):
    """A reference by slug that only resolves to rows the requesting user may view, so the
    answer for "exists but not yours" is the same as for "does not exist"."""

    def __init__(self, *, scope, **kwargs):
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.scope(_user(self))


@extend_schema_field(OpenApiTypes.STR)
class ArtifactRefField(serializers.Field):
    """An uploaded artifact by SHA-256, resolved to the upload the user may read the bytes
    through (:func:`registry.selectors.artifact_readable`); bytes Steward does not hold and
    bytes the user may not read get the same answer."""

    default_error_messages = {"does_not_exist": "No artifact with sha256={value} is available."}

    def to_internal_value(self, data):
        value = str(data)
        artifact = selectors.artifact_readable(_user(self), value)
        if artifact is None:
            self.fail("does_not_exist", value=value[:64])
        return artifact

    def to_representation(self, value):
        return value.sha256


class DatasetVersionRefSerializer(serializers.Serializer):
    """``{"dataset": "iris", "version": 2}`` -> the DatasetVersion row."""

    dataset = serializers.CharField(max_length=128)
    version = serializers.IntegerField(min_value=1)

    def validate(self, attrs):
        found = (
            selectors.dataset_version_list(_user(self))
            .filter(dataset__name=attrs["dataset"], version=attrs["version"])
            .first()
        )
        if found is None:
            raise serializers.ValidationError(
                f"Dataset version {attrs['dataset']} v{attrs['version']} does not exist."
            )
        return found

    def to_representation(self, instance):
        return {"dataset": instance.dataset.name, "version": instance.version}


class DatasetUseSerializer(DatasetVersionRefSerializer):
    """A dataset version with the role it played: ``{"dataset", "version", "role"}``."""

    role = serializers.ChoiceField(choices=DatasetRole.choices)

    def validate(self, attrs):
        role = attrs.pop("role")
        return (super().validate(attrs), role)


class ModelVersionRefSerializer(serializers.Serializer):
    """``{"model": "credit-risk", "version": 3}`` -> the ModelVersion row."""

    model = serializers.CharField(max_length=128)
    version = serializers.IntegerField(min_value=1)

    def validate(self, attrs):
        found = (
            selectors.model_version_list(_user(self))
            .filter(registered_model__name=attrs["model"], version=attrs["version"])
            .first()
        )
        if found is None:
            raise serializers.ValidationError(
                f"Model version {attrs['model']} v{attrs['version']} does not exist."
            )
        return found
