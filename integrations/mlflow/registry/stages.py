"""MLflow's legacy stage transitions, as decisions of Steward's workflow.

A stage is not a field anyone sets: ``answers.STAGE_OF_STATUS`` derives it from the version's
state. Asking for a stage asks for the workflow action that leads there, taken by the caller
through ``governance.services.version_transition`` (role, object permission, the token's scope,
the policy's guards, separation of duties, a decision with its motivation in the audit chain):

- ``Production``: *promote*, from an approved version (the manager's deploy verb);
- ``Staging``: *submit*, from a draft or a version sent back for changes;
- ``Archived``: *archive*, from a draft, a rejected or a deprecated version (a version in
  production is deprecated first, by a manager);
- ``None``: nothing leads back there; accepted only where the version already is.

Asking for the stage a version is already in changes nothing. ``archive_existing_versions``
with Production deprecates every other version of the model in production, as decisions of the
same caller in the same transaction: if any is refused, nothing happens at all.
"""

from __future__ import annotations

from collections.abc import Collection

from django.db import transaction

from accounts.models import User
from core.errors import Conflict, InvalidInput
from governance.choices import Action
from governance.errors import IllegalTransition
from governance.services import version_transition
from integrations.mlflow.registry.answers import (
    STAGE_ARCHIVED,
    STAGE_NONE,
    STAGE_PRODUCTION,
    STAGE_STAGING,
    stage_canonical,
    stage_of,
)
from registry.choices import VersionStatus as S
from registry.models import ModelVersion

ACTION_OF_STAGE = {
    STAGE_PRODUCTION: Action.PROMOTE,
    STAGE_STAGING: Action.SUBMIT,
    STAGE_ARCHIVED: Action.ARCHIVE,
}
WHAT_FIRST = {
    STAGE_PRODUCTION: "Production in Steward is the promote decision, taken on an approved "
    "version: submit it, have it validated and approved first.",
    STAGE_STAGING: "Staging in Steward is a submission for validation, taken on a draft.",
    STAGE_ARCHIVED: "Archived in Steward is the archive decision, taken on a draft, a rejected "
    "or a deprecated version; a version in production or approved is deprecated first by a "
    "manager.",
}


def motivation_of_call(actor: User, version: ModelVersion, stage: str) -> str:
    return (
        f"MLflow client call model-versions/transition-stage by {actor.username}: "
        f"{version.natural_key} to stage {stage}."
    )


@transaction.atomic
def mlflow_version_stage_transition(
    *,
    actor: User,
    version: ModelVersion,
    stage: str,
    archive_existing_versions: bool = False,
    token_scopes: Collection[str] | None = None,
) -> ModelVersion:
    """Move ``version`` to MLflow's ``stage`` through the workflow (see the module's text);
    refusals are the workflow's own errors, with what must happen first added to the reason."""
    target = stage_canonical(stage)
    if target is None:
        raise InvalidInput(
            f"Invalid Model Version stage: {stage}. Value must be one of None, Staging, "
            "Production, Archived."
        )
    if archive_existing_versions and target != STAGE_PRODUCTION:
        raise InvalidInput(
            "archive_existing_versions is honoured with the Production stage only: in Steward "
            "the versions it replaces are deprecated by the same decision maker."
        )
    if stage_of(version) == target:
        return version
    if target == STAGE_NONE:
        raise Conflict(
            f"{version.natural_key} is {version.get_status_display().lower()} in Steward's "
            "workflow; no decision leads back to MLflow's stage None."
        )
    motivation = motivation_of_call(actor, version, target)
    try:
        version_transition(
            actor=actor,
            version=version,
            action=ACTION_OF_STAGE[target],
            motivation=motivation,
            token_scopes=token_scopes,
        )
    except IllegalTransition as exc:
        raise IllegalTransition(f"{exc.message} {WHAT_FIRST[target]}") from exc
    if archive_existing_versions:
        others = ModelVersion.objects.filter(
            registered_model_id=version.registered_model_id,
            status__in=(S.PRODUCTION, S.FLAGGED),
        ).exclude(pk=version.pk)
        for other in others.order_by("version"):
            version_transition(
                actor=actor,
                version=other,
                action=Action.DEPRECATE,
                motivation=f"{motivation} archive_existing_versions: {other.natural_key} is "
                "replaced.",
                token_scopes=token_scopes,
            )
    return version
