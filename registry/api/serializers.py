"""DRF serializers of the registry: read shapes, and input shapes that only parse and check
what a client sent. Writes go through registry.services."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from accounts.choices import RoleName
from accounts.models import Team, User
from core.api.fields import CountField, NumberField
from registry import selectors
from registry.api.fields import (
    ArtifactRefField,
    DatasetUseSerializer,
    DatasetVersionRefSerializer,
    ModelVersionRefSerializer,
    ScopedSlugRelatedField,
)
from registry.choices import RiskTier, RunKind, RunStatus
from registry.models import (
    Artifact,
    Dataset,
    DatasetVersion,
    ModelRoleAssignment,
    ModelVersion,
    RegisteredModel,
    Run,
)
from registry.permissions import Visibility
from registry.selectors_api import model_alias_pairs, model_tags, version_aliases, version_links
from registry.validators import validate_image_digest, validate_name, validate_sha256

TagList = serializers.ListField(
    child=serializers.CharField(max_length=64), required=False, max_length=50
)
CODE_ENV_FIELDS = [
    "code_repository",
    "code_commit",
    "code_path",
    "python_version",
    "packages",
    "image_digest",
]


class CodeEnvironmentInput(serializers.Serializer):
    code_repository = serializers.CharField(max_length=500, required=False, allow_blank=True)
    # A git commit id: 7 to 40 hex digits (64 for SHA-256 repositories).
    code_commit = serializers.RegexField(
        r"^[0-9a-fA-F]{7,64}$",
        max_length=64,
        required=False,
        allow_blank=True,
        error_messages={"invalid": "A commit id is 7 to 64 hexadecimal digits."},
    )
    code_path = serializers.CharField(max_length=500, required=False, allow_blank=True)
    python_version = serializers.CharField(max_length=32, required=False, allow_blank=True)
    packages = serializers.DictField(
        child=serializers.CharField(max_length=200, allow_blank=True), required=False
    )
    image_digest = serializers.CharField(
        max_length=71, required=False, allow_blank=True, validators=[validate_image_digest]
    )


# --- registered models -----------------------------------------------------------------------


class ModelAliasRefSerializer(serializers.Serializer):
    """An alias of a model as the model shows it (set through /models/{name}/aliases/)."""

    alias = serializers.CharField(source="name", read_only=True)
    version = serializers.IntegerField(source="version.version", read_only=True)


class RegisteredModelSerializer(serializers.ModelSerializer):
    owner_team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    version_count = serializers.IntegerField(read_only=True)
    latest_version = serializers.IntegerField(read_only=True, allow_null=True)
    aliases = ModelAliasRefSerializer(many=True, read_only=True)

    class Meta:
        model = RegisteredModel
        fields = [
            "name",
            "description",
            "owner_team",
            "risk_tier",
            "tags",
            "version_count",
            "latest_version",
            "aliases",
            "created_by",
            "created_at",
            "updated_at",
        ]

    def to_representation(self, instance) -> dict:
        """The same answer as the declared fields give (a test compares them), built directly:
        a search renders a hundred of these, and DRF's generic field walk was most of its
        time."""
        zone = timezone.get_current_timezone()
        return {
            "name": instance.name,
            "description": instance.description,
            "owner_team": instance.owner_team.slug,
            "risk_tier": instance.risk_tier,
            "tags": model_tags(instance),
            "version_count": getattr(instance, "version_count", None),
            "latest_version": getattr(instance, "latest_version", None),
            "aliases": [
                {"alias": name, "version": number} for name, number in model_alias_pairs(instance)
            ],
            "created_by": instance.created_by.username if instance.created_by_id else None,
            "created_at": _datetime_text(instance.created_at, zone),
            "updated_at": _datetime_text(instance.updated_at, zone),
        }


_DATETIME = serializers.DateTimeField()


def _datetime_text(value, zone) -> str | None:
    """What ``DateTimeField().to_representation`` answers for the timestamps of a row (aware,
    ISO 8601, UTC written as Z) with the current time zone looked up once per row, not once
    per value: DRF's lookup through asgiref's local was most of a list row's rendering."""
    if value is None or value.tzinfo is None or api_settings.DATETIME_FORMAT != ISO_8601:
        return _DATETIME.to_representation(value)
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class RegisteredModelCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=128, validators=[validate_name])
    owner_team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    risk_tier = serializers.ChoiceField(choices=RiskTier.choices, default=RiskTier.MEDIUM)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    tags = TagList


class RegisteredModelUpdateSerializer(serializers.Serializer):
    owner_team = serializers.SlugRelatedField(
        slug_field="slug", queryset=Team.objects.all(), required=False
    )
    risk_tier = serializers.ChoiceField(choices=RiskTier.choices, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    tags = TagList


# --- model versions --------------------------------------------------------------------------


class VisibilityMixin:
    """Serializers that name linked records check, once per response, what the caller may
    see."""

    def _visibility(self) -> Visibility:
        if "visibility" not in self.context:
            self.context["visibility"] = Visibility(self.context["request"].user)
        return self.context["visibility"]


class ModelVersionSerializer(VisibilityMixin, serializers.ModelSerializer):
    """A version with its provenance. Linked records the caller may not see (another team's
    data or run) are counted, never named."""

    model = serializers.CharField(source="registered_model.name", read_only=True)
    run = serializers.SerializerMethodField()
    artifact_stored = serializers.SerializerMethodField()
    datasets = serializers.SerializerMethodField()
    hidden_datasets = serializers.SerializerMethodField()
    derived_from = serializers.SerializerMethodField()
    registered_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    aliases = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = ModelVersion
        fields = [
            "model",
            "version",
            "status",
            "aliases",
            "description",
            "artifact_uri",
            "artifact_sha256",
            "artifact_size",
            "artifact_stored",
            "framework",
            "input_schema",
            "output_schema",
            "params",
            "metrics",
            "run",
            "datasets",
            "hidden_datasets",
            "derived_from",
            *CODE_ENV_FIELDS,
            "registered_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance) -> dict:
        """The same answer as the declared fields give (a test compares them), built directly:
        DRF builds a ModelSerializer's nineteen fields anew for every instance it renders, and
        that was a fifth of the CPU of a version GET."""
        links = version_links(instance)
        visible = self._visibility()
        zone = timezone.get_current_timezone()
        # A link's dataset is as visible as its owning team (Visibility.dataset_version).
        shown = [link for link in links if visible.team(link.owner_team_id)]
        return {
            "model": instance.registered_model.name,
            "version": instance.version,
            "status": instance.status,
            "aliases": version_aliases(instance),
            "description": instance.description,
            "artifact_uri": instance.artifact_uri,
            "artifact_sha256": instance.artifact_sha256,
            "artifact_size": instance.artifact_size,
            "artifact_stored": self.get_artifact_stored(instance),
            "framework": instance.framework,
            "input_schema": instance.input_schema,
            "output_schema": instance.output_schema,
            "params": instance.params,
            "metrics": instance.metrics,
            "run": self.get_run(instance),
            "datasets": [
                {"dataset": link.dataset, "version": link.version, "role": link.role}
                for link in shown
            ],
            "hidden_datasets": len(links) - len(shown),
            "derived_from": self.get_derived_from(instance),
            **{name: getattr(instance, name) for name in CODE_ENV_FIELDS},
            "registered_by": instance.registered_by.username if instance.registered_by_id else None,
            "created_at": _datetime_text(instance.created_at, zone),
            "updated_at": _datetime_text(instance.updated_at, zone),
        }

    def get_run(self, obj) -> str | None:
        if obj.run is None or not self._visibility().run(obj.run):
            return None
        return str(obj.run.uuid)

    def get_artifact_stored(self, obj) -> bool:
        return obj.artifact_id is not None

    def get_datasets(self, obj) -> list[dict]:
        visible = self._visibility()
        return [
            {
                "dataset": link.dataset_version.dataset.name,
                "version": link.dataset_version.version,
                "role": link.role,
            }
            for link in obj.dataset_links.all()
            if visible.dataset_version(link.dataset_version)
        ]

    def get_hidden_datasets(self, obj) -> int:
        visible = self._visibility()
        return sum(
            1
            for link in obj.dataset_links.all()
            if not visible.dataset_version(link.dataset_version)
        )

    def get_derived_from(self, obj) -> dict | None:
        parent = obj.derived_from
        if parent is None or not self._visibility().model_version(parent):
            return None
        return {"model": parent.registered_model.name, "version": parent.version}


class ModelVersionCreateSerializer(CodeEnvironmentInput):
    description = serializers.CharField(required=False, allow_blank=True, default="")
    artifact = ArtifactRefField(
        required=False,
        allow_null=True,
        help_text="SHA-256 of an artifact uploaded to /api/v1/artifacts/.",
    )
    artifact_uri = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    artifact_sha256 = serializers.CharField(
        max_length=64, required=False, allow_blank=True, validators=[validate_sha256]
    )
    artifact_size = CountField(required=False, allow_null=True)
    framework = serializers.CharField(max_length=64, required=False, allow_blank=True)
    input_schema = serializers.DictField(required=False)
    output_schema = serializers.DictField(required=False)
    params = serializers.DictField(required=False)
    metrics = serializers.DictField(child=NumberField(), required=False)
    run = ScopedSlugRelatedField(
        slug_field="uuid", scope=selectors.run_list, required=False, allow_null=True
    )
    datasets = DatasetUseSerializer(many=True, required=False)
    derived_from = ModelVersionRefSerializer(required=False, allow_null=True)


class ModelVersionUpdateSerializer(serializers.Serializer):
    description = serializers.CharField(allow_blank=True)


# --- datasets --------------------------------------------------------------------------------


class DatasetSerializer(serializers.ModelSerializer):
    owner_team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    version_count = serializers.IntegerField(read_only=True)
    latest_version = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Dataset
        fields = [
            "name",
            "description",
            "owner_team",
            "tags",
            "version_count",
            "latest_version",
            "created_by",
            "created_at",
            "updated_at",
        ]


class DatasetCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=128, validators=[validate_name])
    owner_team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    description = serializers.CharField(required=False, allow_blank=True, default="")
    tags = TagList


class DatasetUpdateSerializer(serializers.Serializer):
    description = serializers.CharField(required=False, allow_blank=True)
    tags = TagList


class DatasetVersionSerializer(VisibilityMixin, serializers.ModelSerializer):
    """A dataset version with its provenance; what the caller may not see is left out."""

    dataset = serializers.CharField(source="dataset.name", read_only=True)
    produced_by_run = serializers.SerializerMethodField()
    derived_from = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = DatasetVersion
        fields = [
            "dataset",
            "version",
            "description",
            "uri",
            "content_hash",
            "size_bytes",
            "row_count",
            "schema",
            "profile",
            "produced_by_run",
            "derived_from",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_produced_by_run(self, obj) -> str | None:
        run = obj.produced_by_run
        return str(run.uuid) if run is not None and self._visibility().run(run) else None

    def get_derived_from(self, obj) -> list[dict]:
        visible = self._visibility()
        return [
            {"dataset": parent.dataset.name, "version": parent.version}
            for parent in obj.derived_from.all()
            if visible.dataset_version(parent)
        ]


class DatasetVersionCreateSerializer(serializers.Serializer):
    uri = serializers.CharField(max_length=1000)
    content_hash = serializers.CharField(max_length=64, validators=[validate_sha256])
    size_bytes = CountField(required=False, allow_null=True)
    row_count = CountField(required=False, allow_null=True)
    schema = serializers.DictField(required=False)
    profile = serializers.DictField(required=False)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    produced_by_run = ScopedSlugRelatedField(
        slug_field="uuid", scope=selectors.run_list, required=False, allow_null=True
    )
    derived_from = DatasetVersionRefSerializer(many=True, required=False)


# --- runs ------------------------------------------------------------------------------------


class RunSerializer(VisibilityMixin, serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    inputs = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Run
        fields = [
            "uuid",
            "name",
            "kind",
            "status",
            "team",
            "inputs",
            "params",
            "metrics",
            "started_at",
            "ended_at",
            "notes",
            *CODE_ENV_FIELDS,
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_inputs(self, obj) -> list[dict]:
        return [
            {
                "dataset": link.dataset_version.dataset.name,
                "version": link.dataset_version.version,
                "role": link.role,
            }
            for link in obj.input_links.all()
            if self._visibility().dataset_version(link.dataset_version)
        ]


class RunCreateSerializer(CodeEnvironmentInput):
    kind = serializers.ChoiceField(choices=RunKind.choices)
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    status = serializers.ChoiceField(choices=RunStatus.choices, default=RunStatus.COMPLETED)
    inputs = DatasetUseSerializer(many=True, required=False)
    params = serializers.DictField(required=False)
    metrics = serializers.DictField(child=NumberField(), required=False)
    started_at = serializers.DateTimeField(required=False, allow_null=True)
    ended_at = serializers.DateTimeField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class RunUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=RunStatus.choices, required=False)
    metrics = serializers.DictField(child=NumberField(), required=False)
    ended_at = serializers.DateTimeField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True)


# --- artifacts and lineage -------------------------------------------------------------------


class ArtifactSerializer(serializers.ModelSerializer):
    uri = serializers.CharField(read_only=True)
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Artifact
        fields = [
            "sha256",
            "uri",
            "size_bytes",
            "original_name",
            "content_type",
            "uploaded_by",
            "created_at",
        ]
        read_only_fields = fields


class LineageNodeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    key = serializers.CharField()
    label = serializers.CharField()
    depth = serializers.IntegerField()
    has_more = serializers.BooleanField()


class LineageEdgeSerializer(serializers.Serializer):
    source = serializers.IntegerField()
    target = serializers.IntegerField()
    relation = serializers.CharField()


class LineageGraphSerializer(serializers.Serializer):
    root = serializers.IntegerField()
    direction = serializers.CharField()
    depth = serializers.IntegerField()
    truncated = serializers.BooleanField()
    nodes = LineageNodeSerializer(many=True)
    edges = LineageEdgeSerializer(many=True)


class ModelRoleAssignmentSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(read_only=True)
    user = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.all())
    role = serializers.ChoiceField(choices=RoleName.choices, source="role.name")
    granted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ModelRoleAssignment
        fields = ["id", "user", "role", "granted_by", "note", "created_at"]
        read_only_fields = ["id", "granted_by", "created_at"]
