"""The registry in the admin console. Models and datasets are created and edited through the
services; versions, runs, artifacts and the lineage graph are read-only provenance."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.html import format_html

from core.admin import ReadOnlyAdmin, ReadOnlyInline
from core.errors import StewardError
from registry import services
from registry.change_gates import model_change_gates_run
from registry.models import (
    Artifact,
    Dataset,
    DatasetVersion,
    LineageEdge,
    LineageNode,
    ModelAlias,
    ModelAliasMove,
    ModelRoleAssignment,
    ModelVersion,
    ModelVersionDataset,
    RegisteredModel,
    Run,
    RunInput,
    Tag,
)

PROVENANCE_FIELDSETS = (
    ("Code", {"fields": ("code_repository", "code_commit", "code_path")}),
    ("Environment", {"fields": ("python_version", "packages", "image_digest")}),
)


class ServiceAdmin(admin.ModelAdmin):
    """Saves go through a service. The model form has already checked what the service would
    refuse (name pattern and uniqueness, choices, existing team and tags)."""

    def save_model(self, request, obj, form, change):
        saved = self.call_service(request, obj, form, change)
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        # Tags were set by the service, so the form's own m2m save is skipped; the inlines are
        # read-only and save nothing, but the admin's change message reads their results.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def call_service(self, request, obj, form, change):
        raise NotImplementedError


class VersionInline(ReadOnlyInline):
    model = ModelVersion
    fields = ["version", "status", "framework", "artifact_sha256", "registered_by", "created_at"]
    readonly_fields = fields
    ordering = ["-version"]


class RegisteredModelForm(forms.ModelForm):
    """Refuses, as a form error, a change of tier or team that governance takes only as a
    reclassification (the service would refuse it too; here the admin sees why)."""

    acting_user = None

    def clean(self):
        cleaned = super().clean()
        original = self.instance
        if original.pk is None or self.acting_user is None:
            return cleaned
        stored = RegisteredModel.objects.get(pk=original.pk)
        changes = {}
        if cleaned.get("risk_tier") and cleaned["risk_tier"] != stored.risk_tier:
            changes["risk_tier"] = cleaned["risk_tier"]
        team = cleaned.get("owner_team")
        if team is not None and team.pk != stored.owner_team_id:
            changes["owner_team"] = team
        if changes:
            try:
                model_change_gates_run(self.acting_user, stored, changes)
            except StewardError as exc:
                raise ValidationError(exc.message) from exc
        return cleaned


@admin.register(RegisteredModel)
class RegisteredModelAdmin(ServiceAdmin):
    list_display = ["name", "owner_team", "risk_tier", "tag_list", "updated_at"]
    list_filter = ["risk_tier", "owner_team", "tags"]
    search_fields = ["name", "description", "tags__name"]
    filter_horizontal = ["tags"]
    readonly_fields = ["created_by", "created_at", "updated_at"]
    inlines = [VersionInline]
    form = RegisteredModelForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"acting_user": request.user})

    def get_readonly_fields(self, request, obj=None):
        # The name is the model's identity in URLs and the audit trail.
        return [*self.readonly_fields, "name"] if obj else self.readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner_team").prefetch_related("tags")

    @admin.display(description="Tags")
    def tag_list(self, obj):
        return ", ".join(tag.name for tag in obj.tags.all())

    def call_service(self, request, obj, form, change):
        tags = [tag.name for tag in form.cleaned_data.get("tags", [])]
        fields = {
            "owner_team": obj.owner_team,
            "risk_tier": obj.risk_tier,
            "description": obj.description,
            "tags": tags,
        }
        if change:
            return services.registered_model_update(actor=request.user, model=obj, **fields)
        return services.registered_model_create(actor=request.user, name=obj.name, **fields)


class DatasetLinkInline(ReadOnlyInline):
    model = ModelVersionDataset
    fields = ["dataset_version", "role"]
    readonly_fields = fields
    show_change_link = False


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "status", "framework", "short_sha", "registered_by", "created_at"]
    list_filter = [
        "status",
        "framework",
        "registered_model__risk_tier",
        "registered_model__owner_team",
    ]
    search_fields = ["registered_model__name", "artifact_sha256", "artifact_uri", "code_commit"]
    list_select_related = ["registered_model", "registered_by"]
    date_hierarchy = "created_at"
    inlines = [DatasetLinkInline]
    fieldsets = (
        (None, {"fields": ("registered_model", "version", "status", "description")}),
        (
            "Artifact",
            {
                "fields": (
                    "artifact",
                    "artifact_uri",
                    "artifact_sha256",
                    "artifact_size",
                    "framework",
                    "input_schema",
                    "output_schema",
                )
            },
        ),
        ("Training", {"fields": ("run", "params", "metrics", "derived_from")}),
        *PROVENANCE_FIELDSETS,
        ("Registration", {"fields": ("registered_by", "created_at", "updated_at")}),
    )

    @admin.display(description="SHA-256")
    def short_sha(self, obj):
        return format_html(
            "<code title='{}'>{}</code>", obj.artifact_sha256, obj.artifact_sha256[:12]
        )


@admin.register(Dataset)
class DatasetAdmin(ServiceAdmin):
    list_display = ["name", "owner_team", "updated_at"]
    list_filter = ["owner_team", "tags"]
    search_fields = ["name", "description", "tags__name"]
    filter_horizontal = ["tags"]
    readonly_fields = ["created_by", "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "name", "owner_team"] if obj else self.readonly_fields

    def call_service(self, request, obj, form, change):
        tags = [tag.name for tag in form.cleaned_data.get("tags", [])]
        if change:
            return services.dataset_update(
                actor=request.user, dataset=obj, description=obj.description, tags=tags
            )
        return services.dataset_create(
            actor=request.user,
            name=obj.name,
            owner_team=obj.owner_team,
            description=obj.description,
            tags=tags,
        )


@admin.register(DatasetVersion)
class DatasetVersionAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "row_count", "size_bytes", "short_hash", "created_by", "created_at"]
    list_filter = ["dataset__owner_team", "dataset"]
    search_fields = ["dataset__name", "content_hash", "uri", "description"]
    list_select_related = ["dataset", "created_by"]
    date_hierarchy = "created_at"

    @admin.display(description="Content hash")
    def short_hash(self, obj):
        return format_html("<code title='{}'>{}</code>", obj.content_hash, obj.content_hash[:12])


class RunInputInline(ReadOnlyInline):
    model = RunInput
    fields = ["dataset_version", "role"]
    readonly_fields = fields
    show_change_link = False


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "status", "team", "created_by", "started_at", "ended_at"]
    list_filter = ["kind", "status", "team"]
    search_fields = ["name", "uuid", "notes", "code_commit"]
    list_select_related = ["team", "created_by"]
    date_hierarchy = "created_at"
    inlines = [RunInputInline]


@admin.register(Artifact)
class ArtifactAdmin(ReadOnlyAdmin):
    list_display = ["original_name", "sha256", "size_bytes", "uploaded_by", "created_at"]
    search_fields = ["sha256", "original_name"]
    list_select_related = ["uploaded_by"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(LineageNode)
class LineageNodeAdmin(ReadOnlyAdmin):
    list_display = ["kind", "key", "label"]
    list_filter = ["kind"]
    search_fields = ["key", "label"]


@admin.register(LineageEdge)
class LineageEdgeAdmin(ReadOnlyAdmin):
    list_display = ["source", "relation", "target"]
    list_filter = ["relation"]
    search_fields = ["source__key", "target__key"]
    list_select_related = ["source", "target"]


@admin.register(ModelRoleAssignment)
class ModelRoleAssignmentAdmin(admin.ModelAdmin):
    """Roles for one model only. Granting and revoking go through the services, which keep the
    guardian object permissions in step."""

    list_display = ["user", "role", "registered_model", "granted_by", "created_at"]
    list_filter = ["role", "registered_model__owner_team"]
    search_fields = ["user__username", "registered_model__name", "note"]
    autocomplete_fields = ["user", "registered_model"]
    fields = ["user", "role", "registered_model", "note", "granted_by", "created_at"]
    readonly_fields = ["granted_by", "created_at"]
    list_select_related = ["user", "role", "registered_model", "granted_by"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        saved = services.model_role_assign(
            actor=request.user,
            user=obj.user,
            role=obj.role.name,
            registered_model=obj.registered_model,
            note=obj.note,
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.model_role_revoke(actor=request.user, assignment=obj)

    def delete_queryset(self, request, queryset):
        for assignment in queryset:
            services.model_role_revoke(actor=request.user, assignment=assignment)


@admin.register(ModelAlias)
class ModelAliasAdmin(ReadOnlyAdmin):
    """Aliases are moved through governance (the model page, the API, MLflow), never here."""

    list_display = ["__str__", "version", "protected", "set_by", "updated_at"]
    list_filter = ["registered_model__owner_team"]
    search_fields = ["registered_model__name", "name"]
    list_select_related = ["registered_model", "version__registered_model", "set_by"]

    @admin.display(boolean=True, description="Protected")
    def protected(self, obj):
        return obj.protected


@admin.register(ModelAliasMove)
class ModelAliasMoveAdmin(ReadOnlyAdmin):
    """Every move of an alias, as recorded: who, why, from and to (empty: removed)."""

    list_display = [
        "created_at",
        "registered_model",
        "alias",
        "from_version",
        "to_version",
        "protected",
        "actor",
    ]
    list_filter = ["protected", "registered_model__owner_team"]
    search_fields = ["registered_model__name", "alias", "motivation", "actor__username"]
    list_select_related = ["registered_model", "actor"]
    date_hierarchy = "created_at"
