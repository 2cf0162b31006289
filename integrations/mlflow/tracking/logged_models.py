"""Writes on MLflow 3's logged models (``m-<hex>``): what ``log_model`` creates before it
uploads the files, and finalizes after. Writing one needs what changing its run needs (a model
without a run: changing runs of the experiment's team). Chain events, one per request:
``mlflow.logged_model.create``, ``.finalize`` (with the manifest of its files, which are fixed
from then on), ``.update`` (params, tags), ``.delete``; the run's ``runs/outputs`` link is
``mlflow.logged_model.output`` when it names a run the model had not."""

from __future__ import annotations

import uuid

from django.db import transaction

from accounts.access import require, require_in_team
from accounts.choices import Verb
from accounts.models import User
from core.errors import InvalidInput
from core.eventlog import audit_event_append
from integrations.mlflow.artifacts.paths import model_root
from integrations.mlflow.artifacts.selectors import artifact_files_under, artifact_manifest
from integrations.mlflow.tracking import constants as c
from integrations.mlflow.tracking.services import tags_checked, text_checked
from integrations.models.mlflow import (
    LifecycleStage,
    LoggedModelStatus,
    MlflowExperiment,
    MlflowLoggedModel,
    MlflowRun,
)


def _require_change(actor: User, logged_model: MlflowLoggedModel) -> None:
    if logged_model.run is not None:
        require(actor, Verb.CHANGE, logged_model.run)
    else:
        require_in_team(actor, Verb.CHANGE, logged_model.experiment.team)


def _event(actor: User, action: str, logged_model: MlflowLoggedModel, **data) -> None:
    audit_event_append(
        actor=actor,
        action=f"mlflow.logged_model.{action}",
        subject=logged_model,
        data={
            "model_id": logged_model.model_id,
            "run": logged_model.run.uuid.hex if logged_model.run else None,
            **data,
        },
    )


def _params_checked(params: dict) -> dict[str, str]:
    for key, value in params.items():
        text_checked("param key", key, max_length=c.MAX_KEY_LENGTH)
        text_checked(f"param '{key}'", value, max_length=c.MAX_PARAM_VALUE_LENGTH, required=False)
    return dict(params)


@transaction.atomic
def logged_model_create(
    *,
    actor: User,
    experiment: MlflowExperiment,
    name: str = "",
    model_type: str = "",
    source_run: MlflowRun | None = None,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
) -> MlflowLoggedModel:
    """A new, pending logged model of ``experiment`` (made by ``source_run``, if given)."""
    if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
        raise InvalidInput(f"Experiment '{experiment.name}' is deleted; restore it first.")
    if source_run is not None:
        if source_run.experiment_id != experiment.pk:
            raise InvalidInput("The source run belongs to another experiment.")
        require(actor, Verb.CHANGE, source_run.run)
    else:
        require_in_team(actor, Verb.CHANGE, experiment.team)
    model_id = f"m-{uuid.uuid4().hex}"
    logged_model = MlflowLoggedModel.objects.create(
        model_id=model_id,
        experiment=experiment,
        run=source_run.run if source_run else None,
        name=text_checked("name", name or "model", max_length=250),
        model_type=text_checked("model_type", model_type or "", max_length=100, required=False),
        params=_params_checked(params or {}),
        tags=tags_checked(tags or {}),
        created_by=actor,
    )
    _event(
        actor,
        "create",
        logged_model,
        experiment_id=str(experiment.pk),
        name=logged_model.name,
        params=logged_model.params,
        tags=logged_model.tags,
    )
    return logged_model


def _locked(actor: User, logged_model: MlflowLoggedModel) -> MlflowLoggedModel:
    _require_change(actor, logged_model)
    # Locked alone: its run is the nullable side of a join FOR UPDATE cannot take.
    return MlflowLoggedModel.objects.select_for_update().get(pk=logged_model.pk)


@transaction.atomic
def logged_model_finalize(
    *, actor: User, logged_model: MlflowLoggedModel, status: str
) -> MlflowLoggedModel:
    """READY (its files are then fixed, their manifest chained) or UPLOAD_FAILED."""
    if status not in (LoggedModelStatus.READY, LoggedModelStatus.FAILED):
        raise InvalidInput(f"A logged model is finalized as READY or UPLOAD_FAILED, not {status}.")
    logged_model = _locked(actor, logged_model)
    if logged_model.status == status:
        return logged_model
    if logged_model.status != LoggedModelStatus.PENDING:
        raise InvalidInput(f"Logged model {logged_model.model_id} is already finalized.")
    logged_model.status = status
    logged_model.save(update_fields=["status", "updated_at"])
    root = model_root(logged_model.experiment_id, logged_model.model_id)
    manifest = artifact_manifest(list(artifact_files_under(root, "")), "")
    _event(
        actor,
        "finalize",
        logged_model,
        status=status,
        files=manifest.count,
        size_bytes=manifest.size_bytes,
        manifest_sha256=manifest.sha256,
    )
    return logged_model


@transaction.atomic
def logged_model_update(
    *,
    actor: User,
    logged_model: MlflowLoggedModel,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
    deleted_tag: str = "",
) -> MlflowLoggedModel:
    """Add params (a param keeps its value, as a run's do), set tags, or delete a tag."""
    logged_model = _locked(actor, logged_model)
    params = _params_checked(params or {})
    for key, value in params.items():
        if key in logged_model.params and logged_model.params[key] != value:
            raise InvalidInput(f"Param '{key}' of the logged model is already recorded.")
    new_params = {k: v for k, v in params.items() if k not in logged_model.params}
    new_tags = {k: v for k, v in tags_checked(tags or {}).items() if logged_model.tags.get(k) != v}
    gone = deleted_tag if deleted_tag in logged_model.tags else ""
    if not (new_params or new_tags or gone):
        return logged_model
    logged_model.params = {**logged_model.params, **new_params}
    logged_model.tags = {k: v for k, v in {**logged_model.tags, **new_tags}.items() if k != gone}
    logged_model.save(update_fields=["params", "tags", "updated_at"])
    _event(
        actor, "update", logged_model, params=new_params, tags=new_tags, deleted_tag=gone or None
    )
    return logged_model


@transaction.atomic
def logged_model_delete(*, actor: User, logged_model: MlflowLoggedModel) -> MlflowLoggedModel:
    """Delete softly, as MLflow does; its files stay (a version may name them)."""
    logged_model = _locked(actor, logged_model)
    if logged_model.lifecycle_stage == LifecycleStage.DELETED:
        return logged_model
    logged_model.lifecycle_stage = LifecycleStage.DELETED
    logged_model.save(update_fields=["lifecycle_stage", "updated_at"])
    _event(actor, "delete", logged_model)
    return logged_model


@transaction.atomic
def logged_model_outputs_link(
    *, actor: User, mlflow_run: MlflowRun, logged_models: list[MlflowLoggedModel]
) -> None:
    """``runs/outputs``: the run produced these logged models (of its experiment)."""
    require(actor, Verb.CHANGE, mlflow_run.run)
    for logged_model in logged_models:
        if logged_model.experiment_id != mlflow_run.experiment_id:
            raise InvalidInput(f"Logged model {logged_model.model_id} is of another experiment.")
        if logged_model.run_id not in (None, mlflow_run.run.pk):
            raise InvalidInput(f"Logged model {logged_model.model_id} came from another run.")
    linked = []
    for logged_model in logged_models:
        if logged_model.run_id is None:
            logged_model = _locked(actor, logged_model)
            logged_model.run = mlflow_run.run
            logged_model.save(update_fields=["run", "updated_at"])
            linked.append(logged_model.model_id)
    if linked:
        audit_event_append(
            actor=actor,
            action="mlflow.logged_model.output",
            subject=mlflow_run.run,
            data={"run": mlflow_run.run.uuid.hex, "models": linked},
        )
