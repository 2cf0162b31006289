"""Governed deletion of model versions and registered models (MLflow's delete calls).

Nothing that was ever under review is deleted: a version may go only while it is a draft that
never had a decision, that nothing was made from, that no deployment, document, baseline or
note refers to. Anything else stays, and the refusal says to archive it instead. The record
survives the rows: before they go, a chain event holds a snapshot of what was deleted (name,
version, status, artifact hash, run, data, who registered it), and the model keeps the highest
deleted number, so a version number is never given out twice.
"""

from __future__ import annotations

from collections.abc import Collection

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from guardian.models import GroupObjectPermission, UserObjectPermission

from accounts.access import may, require
from accounts.choices import TokenScope, Verb
from accounts.models import User
from core.errors import Conflict, Forbidden
from core.eventlog import audit_event_append
from governance.models import Annotation
from governance.services.aliases import model_alias_remove_for_deletion
from registry.choices import LineageKind, VersionStatus
from registry.models import (
    LineageEdge,
    LineageNode,
    ModelAlias,
    ModelVersion,
    RegisteredModel,
)

ARCHIVE_INSTEAD = (
    "Archive it instead (the archive action; through MLflow, transition-stage to Archived)."
)
# Rows that belong to a version and go with it (or, for aliases, are removed first with their
# own move record). Any other row that refers to the version keeps it.
VERSION_OWNED = frozenset({"aliases", "dataset_links", "mlflow_tags", "mlflow_source"})
# The same for a model: its versions are judged one by one.
MODEL_OWNED = frozenset({"aliases", "alias_moves", "versions", "mlflow_tags"})


@transaction.atomic
def model_version_delete(
    *, actor: User, version: ModelVersion, token_scopes: Collection[str] | None = None
) -> None:
    """Delete ``version`` as ``actor``: 404 if they may not see it, 403 without the archive
    verb on it (or a token without the ``write`` scope), 409 unless it is a draft that was
    never submitted and nothing refers to. Its aliases are removed (each a recorded move), its
    data links, lineage node and MLflow tags go with it, and a chain event keeps its
    snapshot."""
    version = _version_lock(version)
    _require_may_delete(actor, version, token_scopes)
    model = RegisteredModel.objects.select_for_update().get(pk=version.registered_model_id)
    refusal = version_deletion_refusal(version)
    if refusal:
        raise Conflict(f"{version} cannot be deleted: {refusal}. {ARCHIVE_INSTEAD}")
    _version_rows_delete(actor, version, reason="model version deleted")
    if version.version > model.highest_deleted_version:
        model.highest_deleted_version = version.version
        model.save(update_fields=["highest_deleted_version"])


@transaction.atomic
def registered_model_delete(
    *, actor: User, model: RegisteredModel, token_scopes: Collection[str] | None = None
) -> None:
    """Delete ``model`` and its versions as ``actor``: the same rules as
    :func:`model_version_delete`, for every version (a model is deletable only if each of its
    versions is), and nothing else may refer to the model (monitoring rules, KPIs, roles held
    for it alone, notes on it). A chain event per version, then one for the model, keep the
    record."""
    require(actor, Verb.VIEW, model)
    if not may(actor, Verb.ARCHIVE, model):
        raise Forbidden(
            f"You may not delete {model.name}: deleting a model needs the archive verb on it."
        )
    _require_scope(token_scopes, f"delete {model.name}")
    # Versions before the model row, in the order the transition service locks them.
    list(ModelVersion.objects.select_for_update().filter(registered_model=model).order_by("pk"))
    model = (
        RegisteredModel.objects.select_for_update(of=("self",))
        .select_related("owner_team")
        .get(pk=model.pk)
    )
    versions = list(
        ModelVersion.objects.select_for_update(of=("self",))
        .filter(registered_model=model)
        .select_related("registered_model", "registered_by", "run", "derived_from")
        .order_by("version")
    )
    for version in versions:
        refusal = version_deletion_refusal(version)
        if refusal:
            raise Conflict(
                f"{model.name} cannot be deleted: {version} cannot, as {refusal}. Archive its "
                "versions instead (the archive action; through MLflow, transition-stage to "
                "Archived)."
            )
    refusal = _model_references(model)
    if refusal:
        raise Conflict(f"{model.name} cannot be deleted: {refusal}.")
    for version in versions:
        _version_rows_delete(actor, version, reason="registered model deleted")
    snapshot = _model_snapshot(model, [v.version for v in versions])
    audit_event_append(
        actor=actor,
        action="model.delete",
        subject=model,
        scope_model=model.name,
        data=snapshot,
    )
    content_type = ContentType.objects.get_for_model(RegisteredModel)
    # Direct grants on the model would otherwise outlive it (and, were its id ever reused,
    # apply to another model).
    for grants in (UserObjectPermission, GroupObjectPermission):
        grants.objects.filter(content_type=content_type, object_pk=str(model.pk)).delete()
    model.delete()


def version_deletion_refusal(version: ModelVersion) -> str:
    """Why ``version`` may not be deleted ("" if it may): for a refusal message and for pages
    that offer the action."""
    if version.status != VersionStatus.DRAFT:
        return f"it is {version.get_status_display().lower()}, not a draft"
    if version.decisions.exists():
        return "it was submitted for review before (its decisions are part of the record)"
    referring = _referring_rows(version, VERSION_OWNED)
    if referring:
        return f"{', '.join(referring)} refer to it"
    node = _lineage_node(version)
    if node is not None and LineageEdge.objects.filter(source=node).exists():
        return "something in the lineage graph was made from it"
    if _annotations_on(version):
        return "its thread has notes"
    return ""


# --- helpers -----------------------------------------------------------------------------------


def _version_lock(version: ModelVersion) -> ModelVersion:
    return (
        ModelVersion.objects.select_for_update(of=("self",))
        .select_related("registered_model", "registered_by", "run", "derived_from")
        .get(pk=version.pk)
    )


def _require_may_delete(
    actor: User, version: ModelVersion, token_scopes: Collection[str] | None
) -> None:
    require(actor, Verb.VIEW, version)
    if not may(actor, Verb.ARCHIVE, version):
        raise Forbidden(
            f"You may not delete {version}: deleting a version needs the archive verb on it."
        )
    _require_scope(token_scopes, f"delete {version}")


def _require_scope(token_scopes: Collection[str] | None, what: str) -> None:
    # The archive action's scope (governance.workflow): deleting is the stronger form of it.
    if token_scopes is not None and TokenScope.WRITE not in token_scopes:
        raise Forbidden(f"This API token lacks the '{TokenScope.WRITE}' scope needed to {what}.")


def _referring_rows(obj: models.Model, owned: frozenset[str]) -> list[str]:
    """The kinds of rows, other than those ``obj`` owns, that refer to it: found from the
    models' own metadata, so a table an app adds later keeps the version too."""
    found = []
    for relation in type(obj)._meta.related_objects:
        name = relation.get_accessor_name()
        if name in owned or not (relation.one_to_many or relation.one_to_one):
            continue
        related = relation.related_model._default_manager.filter(**{relation.field.name: obj})
        if related.exists():
            found.append(str(relation.related_model._meta.verbose_name_plural))
    return found


def _lineage_node(version: ModelVersion) -> LineageNode | None:
    return LineageNode.objects.filter(kind=LineageKind.MODEL_VERSION, object_id=version.pk).first()


def _annotations_on(obj: models.Model) -> bool:
    content_type = ContentType.objects.get_for_model(type(obj))
    return Annotation.objects.filter(target_type=content_type, target_id=obj.pk).exists()


def _model_references(model: RegisteredModel) -> str:
    referring = _referring_rows(model, MODEL_OWNED)
    if referring:
        return f"{', '.join(referring)} refer to it"
    if _annotations_on(model):
        return "notes were written on it"
    return ""


def _version_rows_delete(actor: User, version: ModelVersion, *, reason: str) -> None:
    """Append the snapshot, remove the aliases (each a recorded move), then the rows."""
    aliases = list(
        ModelAlias.objects.filter(version=version)
        .select_related("registered_model", "version")
        .order_by("name")
    )
    audit_event_append(
        actor=actor,
        action="version.delete",
        subject=version,
        scope_model=version.registered_model.name,
        scope_version=version.natural_key,
        data={**_version_snapshot(version), "aliases": [a.name for a in aliases]},
    )
    for alias in aliases:
        model_alias_remove_for_deletion(
            actor=actor,
            alias=alias,
            motivation=f"removed: {reason} ({version}) by {actor.get_username()}",
        )
    node = _lineage_node(version)
    if node is not None:
        node.delete()  # its edges (data and run into the version) go with it
    version.delete()


def _version_snapshot(version: ModelVersion) -> dict:
    links = version.dataset_links.select_related("dataset_version__dataset").order_by("pk")
    parent = version.derived_from
    return {
        "model": version.registered_model.name,
        "version": version.version,
        "status": version.status,
        "description": version.description,
        "artifact_uri": version.artifact_uri,
        "artifact_sha256": version.artifact_sha256,
        "artifact_size": version.artifact_size,
        "framework": version.framework,
        "params": version.params,
        "metrics": version.metrics,
        "run": str(version.run.uuid) if version.run is not None else None,
        "datasets": [
            {"dataset_version": link.dataset_version.natural_key, "role": link.role}
            for link in links
        ],
        "derived_from": parent.natural_key if parent is not None else None,
        "code_repository": version.code_repository,
        "code_commit": version.code_commit,
        "registered_by": version.registered_by.get_username(),
        "registered_at": version.created_at,
    }


def _model_snapshot(model: RegisteredModel, versions: list[int]) -> dict:
    return {
        "name": model.name,
        "owner_team": model.owner_team.slug,
        "risk_tier": model.risk_tier,
        "description": model.description,
        "tags": sorted(model.tags.values_list("name", flat=True)),
        "created_by": model.created_by.get_username(),
        "created_at": model.created_at,
        "versions_deleted": versions,
    }
