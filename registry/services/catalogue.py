"""Writes on registered models and model versions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import IntegrityError, connection, transaction

from accounts.access import require, require_in_team
from accounts.choices import Verb
from accounts.models import Team, User
from core.errors import Conflict, InvalidInput, NotFound
from core.eventlog import audit_event_append
from core.hashing import is_sha256
from registry.change_gates import model_change_gates_run
from registry.choices import DatasetRole, RiskTier, VersionStatus
from registry.models import (
    Artifact,
    DatasetVersion,
    LineageNode,
    ModelVersion,
    ModelVersionDataset,
    RegisteredModel,
    Run,
    Tag,
)
from registry.services.common import full_clean_or_invalid, name_taken, tags_resolve
from registry.services.lineage import lineage_edge_add, lineage_node_ensure
from registry.services.validation import require_mapping, require_metrics, require_packages

MODEL_VERSION_DATASET_ROLES = {DatasetRole.TRAIN, DatasetRole.VALIDATION, DatasetRole.TEST}
# A version's description may change only before it is submitted (or when sent back).
EDITABLE_STATES = frozenset({VersionStatus.DRAFT, VersionStatus.CHANGES_REQUESTED})


@transaction.atomic
def registered_model_create(
    *,
    actor: User,
    name: str,
    owner_team: Team,
    risk_tier: str = RiskTier.MEDIUM,
    description: str = "",
    tags: Iterable[str] = (),
) -> RegisteredModel:
    """Register a new model name for a team."""
    require_in_team(actor, Verb.CHANGE, owner_team)
    model = RegisteredModel(
        name=name,
        owner_team=owner_team,
        risk_tier=risk_tier,
        description=description,
        created_by=actor,
    )
    full_clean_or_invalid(model)
    if RegisteredModel.objects.filter(name=name).exists():
        raise name_taken("model", name)
    try:
        with transaction.atomic():
            model.save()
    except IntegrityError as exc:  # lost a race with an identical registration
        raise name_taken("model", name) from exc
    resolved_tags = tags_resolve(tags)
    if resolved_tags:  # a new row has none to replace
        model.tags.set(resolved_tags)
    else:  # known to have none: reading them back would be a wasted query
        model._prefetched_objects_cache = {"tags": Tag.objects.none()}
    audit_event_append(
        actor=actor,
        action="model.register",
        subject=model,
        scope_model=model.name,
        data={
            "name": model.name,
            "owner_team": owner_team.slug,
            "risk_tier": model.risk_tier,
            "description": description,
            "tags": sorted(tag.name for tag in resolved_tags),
        },
    )
    return model


@transaction.atomic
def registered_model_update(
    *,
    actor: User,
    model: RegisteredModel,
    description: str | None = None,
    risk_tier: str | None = None,
    owner_team: Team | None = None,
    tags: Iterable[str] | None = None,
) -> RegisteredModel:
    """Change a model's descriptive fields. Its name is its identity and never changes.

    A change of risk tier or owning team first passes the registered change gates: while a
    version is under review or in production, governance refuses it here and takes it only as
    a reclassification decision."""
    require(actor, Verb.CHANGE, model)
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    before = _model_record(model)
    classification: dict = {}
    if risk_tier is not None and risk_tier != model.risk_tier:
        classification["risk_tier"] = risk_tier
    if owner_team is not None and owner_team.pk != model.owner_team_id:
        require_in_team(actor, Verb.CHANGE, owner_team)
        classification["owner_team"] = owner_team
    if classification:
        model_change_gates_run(actor, model, classification)
    if description is not None:
        model.description = description
    _classification_apply(model, **classification)
    full_clean_or_invalid(model)
    model.save()
    if tags is not None:
        model.tags.set(tags_resolve(tags))
    _model_change_audit(actor, model, before, "model.update")
    return model


@transaction.atomic
def registered_model_classification_set(
    *, actor: User, model: RegisteredModel, risk_tier: str | None, owner_team: Team | None
) -> dict:
    """Set a locked model's risk tier and owning team without the change gates. Only
    governance's reclassification service calls this, after its own checks and decisions;
    returns the model's record before the change."""
    before = _model_record(model)
    changes = {}
    if risk_tier is not None and risk_tier != model.risk_tier:
        changes["risk_tier"] = risk_tier
    if owner_team is not None and owner_team.pk != model.owner_team_id:
        changes["owner_team"] = owner_team
    _classification_apply(model, **changes)
    full_clean_or_invalid(model)
    model.save()
    _model_change_audit(actor, model, before, "model.reclassify")
    return before


def _classification_apply(
    model: RegisteredModel, *, risk_tier: str | None = None, owner_team: Team | None = None
) -> None:
    if risk_tier is not None:
        model.risk_tier = risk_tier
    if owner_team is not None:
        model.owner_team = owner_team
        # Visibility of the model's lineage nodes follows its owner.
        LineageNode.objects.filter(registered_model=model).update(owner_team=owner_team)


def _model_record(model: RegisteredModel) -> dict:
    return {
        "risk_tier": model.risk_tier,
        "owner_team": model.owner_team.slug,
        "description": model.description,
    }


def _model_change_audit(actor: User, model: RegisteredModel, before: dict, action: str) -> None:
    """One chain event naming each field that changed, before and after."""
    after = _model_record(model)
    changed = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    if changed:
        audit_event_append(
            actor=actor,
            action=action,
            subject=model,
            scope_model=model.name,
            data={"changes": changed},
        )


def _resolve_artifact(
    *, artifact: Artifact | None, uri: str, sha256: str, size: int | None
) -> tuple[str, str, int | None]:
    """A version points at a stored artifact, or at an external URI with a declared hash."""
    if artifact is not None:
        if sha256 and sha256 != artifact.sha256:
            raise InvalidInput(
                "artifact_sha256 does not match the stored artifact.",
                field_errors={"artifact_sha256": ["Does not match the uploaded artifact."]},
            )
        return artifact.uri, artifact.sha256, artifact.size_bytes
    if not uri:
        raise InvalidInput(
            "Give an uploaded artifact or an artifact_uri with its artifact_sha256.",
            field_errors={"artifact_uri": ["Required when no uploaded artifact is given."]},
        )
    if not is_sha256(sha256):
        raise InvalidInput(
            "artifact_sha256 must be the 64-character hex SHA-256 of the artifact.",
            field_errors={"artifact_sha256": ["Required: 64 lower-case hex characters."]},
        )
    if size is not None and size < 0:
        raise InvalidInput(
            "artifact_size cannot be negative.", field_errors={"artifact_size": ["Must be >= 0."]}
        )
    return uri, sha256, size


def _dataset_links(
    run: Run | None, datasets: Sequence[tuple[DatasetVersion, str]]
) -> list[tuple[DatasetVersion, str]]:
    """The version's datasets; when none are named they are the run's train/validation/test
    inputs, so a version registered from a run needs no repetition."""
    if datasets:
        for _, role in datasets:
            if role not in MODEL_VERSION_DATASET_ROLES:
                raise InvalidInput(
                    f"Dataset role '{role}' is not one of train, validation, test.",
                    field_errors={"datasets": [f"Unknown role '{role}'."]},
                )
        return list(dict.fromkeys(datasets))
    if run is None:
        return []
    return [
        (link.dataset_version, link.role)
        for link in run.input_links.select_related("dataset_version__dataset")
        if link.role in MODEL_VERSION_DATASET_ROLES
    ]


@transaction.atomic
def model_version_register(
    *,
    actor: User,
    registered_model: RegisteredModel,
    artifact: Artifact | None = None,
    artifact_uri: str = "",
    artifact_sha256: str = "",
    artifact_size: int | None = None,
    framework: str = "",
    input_schema: dict | None = None,
    output_schema: dict | None = None,
    params: dict | None = None,
    metrics: dict | None = None,
    run: Run | None = None,
    datasets: Sequence[tuple[DatasetVersion, str]] = (),
    derived_from: ModelVersion | None = None,
    description: str = "",
    code_repository: str = "",
    code_commit: str = "",
    code_path: str = "",
    python_version: str = "",
    packages: dict | None = None,
    image_digest: str = "",
) -> ModelVersion:
    """Register the next version of ``registered_model`` with its full provenance.

    Numbers are 1, 2, 3... per model. The model row is locked while the next number is chosen,
    so concurrent registrations queue instead of colliding (the unique constraint is the
    backstop)."""
    require(actor, Verb.CHANGE, registered_model)
    for referenced in (run, derived_from, *(dv for dv, _ in datasets)):
        if referenced is not None:
            require(actor, Verb.VIEW, referenced)
    # A version links only an upload its registrant may read (the API resolves no other).
    if (
        artifact is not None
        and not Artifact.objects.filter(pk=artifact.pk).restrict(actor).exists()
    ):
        raise NotFound("Artifact not found.")
    uri, sha256, size = _resolve_artifact(
        artifact=artifact, uri=artifact_uri, sha256=artifact_sha256, size=artifact_size
    )
    links = _dataset_links(run, datasets)
    version = ModelVersion(
        registered_model=registered_model,
        version=_version_number_next(registered_model),
        description=description,
        artifact=artifact,
        artifact_uri=uri,
        artifact_sha256=sha256,
        artifact_size=size,
        framework=framework,
        input_schema=require_mapping("input_schema", input_schema),
        output_schema=require_mapping("output_schema", output_schema),
        params=require_mapping("params", params),
        metrics=require_metrics("metrics", metrics),
        run=run,
        derived_from=derived_from,
        registered_by=actor,
        code_repository=code_repository,
        code_commit=code_commit,
        code_path=code_path,
        python_version=python_version,
        packages=require_packages("packages", packages),
        image_digest=image_digest,
    )
    full_clean_or_invalid(version, exclude=["registered_model", "run", "derived_from", "artifact"])
    version.save()
    ModelVersionDataset.objects.bulk_create(
        ModelVersionDataset(model_version=version, dataset_version=dv, role=role)
        for dv, role in links
    )
    if not links:  # known to have no data links: reading them back would be a wasted query
        version._prefetched_objects_cache = {"dataset_links": ModelVersionDataset.objects.none()}
    _record_version_lineage(version, links)
    audit_event_append(
        actor=actor,
        action="version.register",
        subject=version,
        scope_model=registered_model.name,
        scope_version=version.natural_key,
        data={
            "artifact_uri": version.artifact_uri,
            "artifact_sha256": version.artifact_sha256,
            "artifact_stored": artifact is not None,
            "run": str(run.uuid) if run is not None else None,
            "datasets": [{"dataset_version": dv.natural_key, "role": r} for dv, r in links],
            "derived_from": derived_from.natural_key if derived_from is not None else None,
            "code_commit": version.code_commit,
            "metrics": version.metrics,
        },
    )
    return version


def _version_number_next(registered_model: RegisteredModel) -> int:
    """The next version number of ``registered_model``: one more than the highest it ever had
    (deleted versions included), read with the model's row locked, so concurrent registrations
    queue instead of colliding (the unique constraint is the backstop).

    Two plain statements on one cursor, the hot path of every registration: the lock first,
    then the numbers in a statement of its own, whose snapshot is taken after the lock is held
    (in one statement, a registration that waited for the lock would read the highest number
    as it was before the wait)."""
    models_table = connection.ops.quote_name(RegisteredModel._meta.db_table)
    versions_table = connection.ops.quote_name(ModelVersion._meta.db_table)
    # SQLite has no row locks: its transactions begin IMMEDIATE, holding the one write lock.
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT highest_deleted_version FROM {models_table} "  # noqa: S608 - fixed names
            f"WHERE id = %s{lock}",
            [registered_model.pk],
        )
        row = cursor.fetchone()
        if row is None:  # deleted meanwhile
            raise NotFound("Model not found.")
        cursor.execute(
            f"SELECT max(version) FROM {versions_table} "  # noqa: S608 - fixed names
            "WHERE registered_model_id = %s",
            [registered_model.pk],
        )
        return max(cursor.fetchone()[0] or 0, row[0]) + 1


def _record_version_lineage(
    version: ModelVersion, links: Sequence[tuple[DatasetVersion, str]]
) -> None:
    lineage_node_ensure(version, new=True)
    run_inputs: set[tuple[int, str]] = set()
    if version.run is not None:
        lineage_edge_add(source=version.run, target=version, relation="produced")
        run_inputs = set(version.run.input_links.values_list("dataset_version_id", "role"))
    for dataset_version, role in links:
        # Data the run already read reaches the version through the run; a direct edge
        # would only duplicate that path in every picture.
        if (dataset_version.pk, role) not in run_inputs:
            lineage_edge_add(source=dataset_version, target=version, relation=role)
    if version.derived_from is not None:
        lineage_edge_add(source=version.derived_from, target=version, relation="derived_from")


@transaction.atomic
def model_version_update(
    *, actor: User, version: ModelVersion, description: str | None = None
) -> ModelVersion:
    """Change what may change after registration: the description, and only while the version
    is a draft (or sent back for changes). From submission on, the description is part of the
    evidence that was reviewed and rendered into its documents; provenance is immutable."""
    require(actor, Verb.CHANGE, version)
    version = (
        ModelVersion.objects.select_for_update()
        .select_related("registered_model")
        .get(pk=version.pk)
    )
    if description is None or description == version.description:
        return version
    if version.status not in EDITABLE_STATES:
        raise Conflict(
            f"{version} is {version.get_status_display().lower()}: its description was part of "
            "what was submitted for review and can no longer change. Add an annotation instead."
        )
    before = version.description
    version.description = description
    version.save(update_fields=["description", "updated_at"])
    audit_event_append(
        actor=actor,
        action="version.update",
        subject=version,
        scope_model=version.registered_model.name,
        scope_version=version.natural_key,
        data={"changes": {"description": {"from": before, "to": description}}},
    )
    return version


@transaction.atomic
def model_version_run_attach(*, actor: User, version: ModelVersion, run: Run) -> ModelVersion:
    """Name the run that produced a version registered without one (a training job that
    reports its lineage afterwards, e.g. through OpenLineage). Provenance is filled in, never
    rewritten: a version that already names another run is refused, and so is one already
    submitted for review, whose evidence is what reviewers saw."""
    require(actor, Verb.CHANGE, version)
    require(actor, Verb.VIEW, run)
    version = (
        ModelVersion.objects.select_for_update()
        .select_related("registered_model")
        .get(pk=version.pk)
    )
    if version.run_id == run.pk:
        return version
    if version.run_id is not None:
        raise Conflict(f"{version} already names the run that produced it.")
    if version.status not in EDITABLE_STATES:
        raise Conflict(
            f"{version} is {version.get_status_display().lower()}: its provenance was part of "
            "what was submitted for review and can no longer change."
        )
    version.run = run
    version.save(update_fields=["run", "updated_at"])
    lineage_edge_add(source=run, target=version, relation="produced")
    audit_event_append(
        actor=actor,
        action="version.run_attach",
        subject=version,
        scope_model=version.registered_model.name,
        scope_version=version.natural_key,
        data={"run": str(run.uuid)},
    )
    return version
