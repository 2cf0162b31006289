"""Serializer fields that resolve natural-key references to registry rows."""

from __future__ import annotations

from rest_framework import serializers

from registry.choices import DatasetRole
from registry.models import DatasetVersion, ModelVersion


class DatasetVersionRefSerializer(serializers.Serializer):
    """``{"dataset": "iris", "version": 2}`` -> the DatasetVersion row."""

    dataset = serializers.CharField(max_length=128)
    version = serializers.IntegerField(min_value=1)

    def validate(self, attrs):
        try:
            return DatasetVersion.objects.select_related("dataset").get(
                dataset__name=attrs["dataset"], version=attrs["version"]
            )
        except DatasetVersion.DoesNotExist:
            raise serializers.ValidationError(
                f"Dataset version {attrs['dataset']} v{attrs['version']} does not exist."
            ) from None

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
        try:
            return ModelVersion.objects.select_related("registered_model").get(
                registered_model__name=attrs["model"], version=attrs["version"]
            )
        except ModelVersion.DoesNotExist:
            raise serializers.ValidationError(
                f"Model version {attrs['model']} v{attrs['version']} does not exist."
            ) from None
