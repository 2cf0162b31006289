"""How Steward's registered models and versions look to the MLflow client: the JSON shapes of
MLflow's ``RegisteredModel`` and ``ModelVersion`` messages.

MLflow's stage is derived from the version's state in Steward's workflow (the state itself is
the tag ``steward.status``); the owning team and risk tier are the model's tags
``steward.team`` and ``steward.risk_tier``. Those ``steward.*`` tags are Steward's facts, shown
to the client and never written by it. Every row read here comes prefetched by
``integrations.mlflow.registry.selectors``: rendering a page costs no query.
"""

from __future__ import annotations

from collections.abc import Iterable

from registry.choices import VersionStatus as S
from registry.models import ModelVersion, RegisteredModel

RESERVED_TAG_PREFIX = "steward."
TEAM_TAG = "steward.team"
RISK_TIER_TAG = "steward.risk_tier"
STATUS_TAG = "steward.status"
FILES_TAG = "steward.files"
RUN_ID_TAG = "steward.run_id"
FILES_EXTERNAL = "external"

STAGE_NONE, STAGE_STAGING, STAGE_PRODUCTION, STAGE_ARCHIVED = (
    "None",
    "Staging",
    "Production",
    "Archived",
)
STAGES = (STAGE_NONE, STAGE_STAGING, STAGE_PRODUCTION, STAGE_ARCHIVED)
# A flagged version is still live (monitoring asked for a review): it stays Production.
STAGE_OF_STATUS = {
    S.DRAFT: STAGE_NONE,
    S.CHANGES_REQUESTED: STAGE_NONE,
    S.SUBMITTED: STAGE_STAGING,
    S.IN_VALIDATION: STAGE_STAGING,
    S.VALIDATED: STAGE_STAGING,
    S.APPROVED: STAGE_STAGING,
    S.PRODUCTION: STAGE_PRODUCTION,
    S.FLAGGED: STAGE_PRODUCTION,
    S.DEPRECATED: STAGE_ARCHIVED,
    S.ARCHIVED: STAGE_ARCHIVED,
    S.REJECTED: STAGE_ARCHIVED,
}


def stage_of(version: ModelVersion) -> str:
    return STAGE_OF_STATUS.get(version.status, STAGE_NONE)


def stage_canonical(stage: str) -> str | None:
    """MLflow's stage names are case-insensitive (``production``, ``Production``)."""
    return next((s for s in STAGES if s.lower() == str(stage).strip().lower()), None)


def epoch_ms(moment) -> int:
    return int(moment.timestamp() * 1000)


def _tags(pairs: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in pairs]


def version_source(version: ModelVersion) -> str:
    """The ``source`` the client registered (a version registered through Steward's own API has
    its artifact URI)."""
    source = getattr(version, "mlflow_source", None)
    return source.source if source is not None else version.artifact_uri


def version_run_id(version: ModelVersion, stored: dict[str, str]) -> str:
    if version.run_id is not None:
        return version.run.uuid.hex
    return stored.get(RUN_ID_TAG, "")


def model_version_answer(version: ModelVersion) -> dict:
    """MLflow's ``ModelVersion``: always READY (the files were logged before registration), the
    version number as a string, epoch milliseconds."""
    stored = {tag.key: tag.value for tag in version.mlflow_tags.all()}
    return {
        "name": version.registered_model.name,
        "version": str(version.version),
        "creation_timestamp": epoch_ms(version.created_at),
        "last_updated_timestamp": epoch_ms(version.updated_at),
        "user_id": version.registered_by.username,
        "current_stage": stage_of(version),
        "description": version.description,
        "source": version_source(version),
        "run_id": version_run_id(version, stored),
        "run_link": "",
        "status": "READY",
        "tags": _tags([*sorted(stored.items()), (STATUS_TAG, version.status)]),
        "aliases": sorted(alias.name for alias in version.aliases.all()),
    }


def latest_versions(versions: Iterable[ModelVersion], stages: Iterable[str] = ()) -> list:
    """The newest version in each stage (of ``stages``, or every stage), as MLflow lists them."""
    wanted = set(stages) or set(STAGES)
    newest: dict[str, ModelVersion] = {}
    for version in versions:
        stage = stage_of(version)
        if stage in wanted and (stage not in newest or version.version > newest[stage].version):
            newest[stage] = version
    return sorted(newest.values(), key=lambda v: v.version)


def registered_model_answer(model: RegisteredModel) -> dict:
    """MLflow's ``RegisteredModel`` with its latest version per stage, tags and aliases."""
    stored = sorted((tag.key, tag.value) for tag in model.mlflow_tags.all())
    facts = [(TEAM_TAG, model.owner_team.slug), (RISK_TIER_TAG, model.risk_tier)]
    return {
        "name": model.name,
        "creation_timestamp": epoch_ms(model.created_at),
        "last_updated_timestamp": epoch_ms(model.updated_at),
        "user_id": model.created_by.username,
        "description": model.description,
        "latest_versions": [
            model_version_answer(version) for version in latest_versions(model.versions.all())
        ],
        "tags": _tags([*stored, *facts]),
        "aliases": [
            {"alias": alias.name, "version": str(alias.version.version)}
            for alias in sorted(model.aliases.all(), key=lambda a: a.name)
        ],
    }
