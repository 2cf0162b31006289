"""Writes of the MLflow registry routes, each one translated into Steward's own services: a
model is registered by ``registry.services.registered_model_create``, a version by
``model_version_register`` (a draft in the workflow, with its provenance), a stage transition
is a workflow decision (``governance.services.version_transition``). What these services write
themselves are only the MLflow rows Steward's models have no field for: key/value tags and a
version's source. Those rows are audited field by field (auditlog, see ``plugins``); they are
not decisions, so they append nothing to the hash chain, as Steward's own tag edits do not.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Mapping

from django.db import transaction
from django.utils import timezone

from accounts.access import require
from accounts.choices import Verb
from accounts.models import Team, TeamMembership, User
from core.errors import Forbidden, InvalidInput, NotFound
from integrations.mlflow.registry.answers import (
    FILES_EXTERNAL,
    FILES_TAG,
    RESERVED_TAG_PREFIX,
    RISK_TIER_TAG,
    RUN_ID_TAG,
    TEAM_TAG,
)
from integrations.mlflow.registry.environment import version_provenance_of_source
from integrations.mlflow.tracking.selectors import metrics_latest
from integrations.models import MlflowModelTag, MlflowVersionSource, MlflowVersionTag
from registry.choices import RiskTier
from registry.models import ModelVersion, RegisteredModel
from registry.services import model_version_register, registered_model_create
from registry.services.common import name_taken

MAX_TAG_KEY = 250
MAX_TAG_VALUE = 5000
MAX_TAGS = 100


def tags_clean(tags: Mapping[str, str], *, allow: Collection[str] = ()) -> dict[str, str]:
    """Client tags, checked: keys 1-250 characters, values up to 5,000, and no ``steward.*``
    key (those are Steward's facts) except the ones named in ``allow``."""
    if len(tags) > MAX_TAGS:
        raise InvalidInput(f"At most {MAX_TAGS} tags may be set at once.")
    for key, value in tags.items():
        if not key or len(key) > MAX_TAG_KEY:
            raise InvalidInput(f"A tag key has 1 to {MAX_TAG_KEY} characters.")
        if len(value) > MAX_TAG_VALUE:
            raise InvalidInput(f"The value of tag '{key}' is over {MAX_TAG_VALUE} characters.")
        if key.startswith(RESERVED_TAG_PREFIX) and key not in allow:
            raise InvalidInput(
                f"Tags named '{RESERVED_TAG_PREFIX}*' are Steward's own record and are not set "
                f"by clients ('{key}')."
            )
    return dict(tags)


def mlflow_team_choose(*, actor: User, named: str | None) -> Team:
    """The team a model registered through MLflow belongs to: the one its ``steward.team`` tag
    names (slug or name; the actor must belong to it), else the actor's first team by
    membership (the earliest joined, then the lowest id), so the answer never depends on
    the order rows happen to come back in."""
    memberships = TeamMembership.objects.filter(user=actor).select_related("team")
    if named:
        for membership in memberships:
            if named in (membership.team.slug, membership.team.name):
                return membership.team
        raise Forbidden(f"You do not belong to a team '{named}' (tag {TEAM_TAG}).")
    first = memberships.order_by("created_at", "pk").first()
    if first is None:
        raise Forbidden(
            "You belong to no team, so a model registered by you would have no owner; "
            f"join a team first (or name one of yours with the tag {TEAM_TAG})."
        )
    return first.team


@transaction.atomic
def mlflow_registered_model_create(
    *, actor: User, name: str, description: str = "", tags: Mapping[str, str] | None = None
) -> RegisteredModel:
    """Register a model the MLflow way: owned by the team chosen by
    :func:`mlflow_team_choose`, at the risk tier its ``steward.risk_tier`` tag names (else the
    registry's default), its other tags kept as key/value rows."""
    tags = tags_clean(tags or {}, allow=(TEAM_TAG, RISK_TIER_TAG))
    if RegisteredModel.objects.filter(name=name).exists():
        raise name_taken("model", name)
    team = mlflow_team_choose(actor=actor, named=tags.pop(TEAM_TAG, None))
    risk_tier = tags.pop(RISK_TIER_TAG, RiskTier.MEDIUM)
    if risk_tier not in RiskTier.values:
        raise InvalidInput(
            f"Tag {RISK_TIER_TAG} must be one of {', '.join(RiskTier.values)}, not '{risk_tier}'."
        )
    model = registered_model_create(
        actor=actor, name=name, owner_team=team, risk_tier=risk_tier, description=description
    )
    for key, value in tags.items():  # one by one: each an auditlog entry (bulk sends none)
        MlflowModelTag.objects.create(registered_model=model, key=key, value=value)
    return model


@transaction.atomic
def mlflow_model_tag_set(*, actor: User, model: RegisteredModel, key: str, value: str) -> None:
    """Set (or replace) one key/value tag of a model; changing a model needs its change verb."""
    require(actor, Verb.CHANGE, model)
    tags_clean({key: value})
    tag, created = MlflowModelTag.objects.select_for_update().get_or_create(
        registered_model=model, key=key, defaults={"value": value}
    )
    if not created and tag.value != value:
        tag.value = value
        tag.save(update_fields=["value"])
    _touch(model)


@transaction.atomic
def mlflow_model_tag_delete(*, actor: User, model: RegisteredModel, key: str) -> None:
    """Remove one tag of a model; a tag it does not have is RESOURCE_DOES_NOT_EXIST, as
    MLflow's server answers."""
    require(actor, Verb.CHANGE, model)
    tags_clean({key: ""})
    tag = MlflowModelTag.objects.filter(registered_model=model, key=key).first()
    if tag is None:
        raise NotFound(f"No tag with name: {key} in registered model {model.name}.")
    tag.delete()  # one instance: auditlog records the deletion with its actor
    _touch(model)


@transaction.atomic
def mlflow_version_tag_set(*, actor: User, version: ModelVersion, key: str, value: str) -> None:
    require(actor, Verb.CHANGE, version)
    tags_clean({key: value})
    tag, created = MlflowVersionTag.objects.select_for_update().get_or_create(
        model_version=version, key=key, defaults={"value": value}
    )
    if not created and tag.value != value:
        tag.value = value
        tag.save(update_fields=["value"])
    _touch(version)


@transaction.atomic
def mlflow_version_tag_delete(*, actor: User, version: ModelVersion, key: str) -> None:
    require(actor, Verb.CHANGE, version)
    tags_clean({key: ""})
    tag = MlflowVersionTag.objects.filter(model_version=version, key=key).first()
    if tag is None:
        raise NotFound(f"No tag with name: {key} in model version {version.natural_key}.")
    tag.delete()
    _touch(version)


def _run_evidence(run) -> tuple[dict, dict]:
    """The params and metrics a version registered from ``run`` carries for its reviewers and
    the policy's metric checks: the run's params, and the latest finite value of each metric
    logged so far (MLflow registers while the run is still running, before the run's own
    record takes its final values)."""
    if run is None:
        return {}, {}
    latest = metrics_latest([run.pk]).get(run.pk, {})
    metrics = {key: row.value for key, row in latest.items() if math.isfinite(row.value)}
    return dict(run.params or {}), {**(run.metrics or {}), **metrics}


def _touch(row) -> None:
    """A tag change is a change of the model or version for MLflow's last_updated_timestamp
    (only that column: the row's audited fields are unchanged)."""
    type(row).objects.filter(pk=row.pk).update(updated_at=timezone.now())


@transaction.atomic
def mlflow_model_version_create(
    *,
    actor: User,
    model: RegisteredModel,
    source: str,
    run_id: str = "",
    description: str = "",
    tags: Mapping[str, str] | None = None,
) -> ModelVersion:
    """Register the next version of ``model`` from an MLflow ``source``: a draft in Steward's
    workflow with the provenance its files and run give (see ``environment``). A source in
    storage Steward does not hold is registered by reference: its hash is that of the source
    text, and the tag ``steward.files=external`` says so."""
    tags = tags_clean(tags or {})
    provenance = version_provenance_of_source(actor=actor, source=source, run_id=run_id)
    params, metrics = _run_evidence(provenance.run)
    version = model_version_register(
        actor=actor,
        registered_model=model,
        artifact_uri=source,
        artifact_sha256=provenance.sha256 or hashlib.sha256(source.encode()).hexdigest(),
        artifact_size=provenance.size_bytes,
        framework=provenance.facts.framework,
        params=params,
        metrics=metrics,
        run=provenance.run,
        description=description,
        code_repository=provenance.code_repository,
        code_commit=provenance.code_commit,
        code_path=provenance.code_path,
        python_version=provenance.facts.python_version,
        packages=provenance.facts.packages,
    )
    MlflowVersionSource.objects.create(
        model_version=version,
        source=source,
        logged_model=provenance.logged_model,
        storage_root=provenance.storage_root,
    )
    if provenance.external:
        tags[FILES_TAG] = FILES_EXTERNAL
    if run_id and provenance.run is None:
        tags[RUN_ID_TAG] = run_id  # a run of a tracking server elsewhere: kept as said
    for key, value in tags.items():
        MlflowVersionTag.objects.create(model_version=version, key=key, value=value)
    return version
