"""Writes of MLflow's tracking calls, translated into the registry's services.

An experiment belongs to a team; its runs are Steward runs of that team (kind training). What
goes into the audit chain, one event per request at most:

- experiments: ``mlflow.experiment.create`` / ``.update`` / ``.delete`` / ``.restore`` /
  ``.tag`` (renames, lifecycle and tags of the folder a team's runs are in);
- run create: the registry's ``run.register`` (its code from MLflow's source tags, MLflow's
  other tags under ``extra``);
- run update: the registry's ``run.update`` (status, end, name; on a run's end, the latest
  value of each metric);
- params, tags (and metrics logged to an ended run): the registry's ``run.provenance_add``;
- inputs: the registry's ``run.inputs_add`` (and ``dataset.register`` /
  ``dataset_version.register`` for a dataset seen for the first time);
- run delete/restore: ``mlflow.run.delete`` / ``mlflow.run.restore``.

Metric steps are history rows (``MlflowMetric``), never chained one by one: the latest values
reach the Steward run, and the chain, when the run ends."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import IntegrityError, transaction

from accounts.access import require, require_in_team
from accounts.choices import Verb
from accounts.models import Team, TeamMembership, User
from core.errors import Conflict, Forbidden, InvalidInput
from core.eventlog import audit_event_append
from integrations.mlflow.tracking import constants as c
from integrations.mlflow.tracking.datasets import LoggedDataset, dataset_version_for
from integrations.mlflow.tracking.selectors import metrics_latest
from integrations.models.mlflow import LifecycleStage, MlflowExperiment, MlflowMetric, MlflowRun
from registry.choices import RunKind, RunStatus
from registry.services.runs import run_create, run_inputs_add, run_provenance_add, run_update


def from_ms(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value / 1000, tz=UTC)


def text_checked(name: str, value: str, *, max_length: int, required: bool = True) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"'{name}' must be a string.")
    if required and not value.strip():
        raise InvalidInput(f"'{name}' is required.")
    if len(value) > max_length:
        raise InvalidInput(f"'{name}' is longer than {max_length} characters.")
    if "\x00" in value:
        raise InvalidInput(f"'{name}' cannot contain a NUL character.")
    return value


# --- experiments ---------------------------------------------------------------------------


def experiment_team_choose(actor: User, tags: dict[str, str]) -> Team:
    """The team a new experiment belongs to: the one its ``steward.team`` tag names if the
    creator belongs to it, else the creator's first team by membership. The creator must be
    able to create runs there."""
    memberships = TeamMembership.objects.filter(user=actor).select_related("team")
    teams = [m.team for m in memberships.order_by("created_at", "id")]
    if not teams:
        raise Forbidden(
            "You belong to no team, and an MLflow experiment belongs to its creator's team: "
            "ask an administrator to add you to one."
        )
    wanted = tags.get(c.TEAM_TAG, "")
    team = next((t for t in teams if wanted and t.slug == wanted), teams[0])
    require_in_team(actor, Verb.CHANGE, team)
    return team


def _experiment_event(actor: User, action: str, experiment: MlflowExperiment, **data) -> None:
    audit_event_append(
        actor=actor,
        action=f"mlflow.experiment.{action}",
        subject=experiment,
        data={"experiment_id": str(experiment.pk), "name": experiment.name, **data},
    )


def _name_taken(name: str) -> Conflict:
    # The same words whoever holds the name: nothing about the holder.
    return Conflict(f"An experiment named '{name}' already exists; choose another name.")


@transaction.atomic
def experiment_create(*, actor: User, name: str, tags: dict[str, str] | None = None):
    """Create an experiment of the creator's team (:func:`experiment_team_choose`)."""
    name = text_checked("name", name, max_length=500)
    tags = tags_checked(tags or {})
    team = experiment_team_choose(actor, tags)
    if MlflowExperiment.objects.filter(name=name).exists():
        raise _name_taken(name)
    try:
        with transaction.atomic():
            experiment = MlflowExperiment.objects.create(
                name=name, team=team, tags=tags, created_by=actor
            )
    except IntegrityError as exc:
        raise _name_taken(name) from exc
    _experiment_event(actor, "create", experiment, team=team.slug, tags=tags)
    return experiment


def _experiment_locked(actor: User, experiment: MlflowExperiment) -> MlflowExperiment:
    require_in_team(actor, Verb.CHANGE, experiment.team)
    return MlflowExperiment.objects.select_for_update().select_related("team").get(pk=experiment.pk)


@transaction.atomic
def experiment_rename(*, actor: User, experiment: MlflowExperiment, new_name: str):
    new_name = text_checked("new_name", new_name, max_length=500)
    experiment = _experiment_locked(actor, experiment)
    if new_name == experiment.name:
        return experiment
    if MlflowExperiment.objects.filter(name=new_name).exists():
        raise _name_taken(new_name)
    old = experiment.name
    experiment.name = new_name
    experiment.save(update_fields=["name", "updated_at"])
    _experiment_event(actor, "update", experiment, changes={"name": {"from": old, "to": new_name}})
    return experiment


@transaction.atomic
def experiment_lifecycle_set(*, actor: User, experiment: MlflowExperiment, stage: str):
    """Delete (softly, as MLflow does: its runs stay) or restore an experiment."""
    experiment = _experiment_locked(actor, experiment)
    if experiment.lifecycle_stage == stage:
        raise InvalidInput(f"The experiment is already {stage}.")
    experiment.lifecycle_stage = stage
    experiment.save(update_fields=["lifecycle_stage", "updated_at"])
    action = "delete" if stage == LifecycleStage.DELETED else "restore"
    _experiment_event(actor, action, experiment)
    return experiment


@transaction.atomic
def experiment_tag_set(
    *, actor: User, experiment: MlflowExperiment, key: str, value: str | None
) -> MlflowExperiment:
    """Set (or with ``value=None`` delete) a tag of the experiment. ``steward.team`` is read
    when the experiment is created; changing it later moves nothing."""
    experiment = _experiment_locked(actor, experiment)
    if value is None:
        if key not in experiment.tags:
            return experiment
        experiment.tags.pop(key)
    else:
        experiment.tags = {**experiment.tags, **tags_checked({key: value})}
    experiment.save(update_fields=["tags", "updated_at"])
    _experiment_event(actor, "tag", experiment, key=key, value=value)
    return experiment


def tags_checked(tags: dict) -> dict[str, str]:
    if len(tags) > c.MAX_BATCH_TAGS * 10:
        raise InvalidInput("Too many tags.")
    for key, value in tags.items():
        text_checked("tag key", key, max_length=c.MAX_KEY_LENGTH)
        text_checked(f"tag '{key}'", value, max_length=c.MAX_TAG_VALUE_LENGTH, required=False)
    return dict(tags)


# --- runs ----------------------------------------------------------------------------------


@transaction.atomic
def mlflow_run_create(
    *,
    actor: User,
    experiment: MlflowExperiment,
    run_name: str = "",
    start_time: int | None = None,
    tags: dict[str, str] | None = None,
) -> MlflowRun:
    """Start a run in ``experiment``: a Steward training run of its team, RUNNING, with its
    code from MLflow's source tags."""
    if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
        raise InvalidInput(f"Experiment '{experiment.name}' is deleted; restore it first.")
    tags = tags_checked(tags or {})
    run_name = text_checked("run_name", run_name or "", max_length=200, required=False)
    run_name = run_name or tags.get(c.RUN_NAME_TAG, "") or f"run-{uuid.uuid4().hex[:8]}"
    tags[c.RUN_NAME_TAG] = run_name
    code = {field: tags[tag] for tag, field in c.SOURCE_TAGS.items() if tags.get(tag)}
    run = run_create(
        actor=actor,
        kind=RunKind.TRAINING,
        team=experiment.team,
        name=run_name,
        status=RunStatus.RUNNING,
        started_at=from_ms(start_time) or datetime.now(tz=UTC),
        audit_extra={"mlflow": {"experiment_id": str(experiment.pk), "tags": tags}},
        **code,
    )
    return MlflowRun.objects.create(
        run=run,
        experiment=experiment,
        run_name=run_name,
        mlflow_user=tags.get(c.USER_TAG, "")[:256],
        tags=tags,
    )


def _finite_latest(mlflow_run: MlflowRun) -> dict[str, float]:
    latest = metrics_latest([mlflow_run.run.pk])[mlflow_run.run.pk]
    return {key: row.value for key, row in latest.items() if math.isfinite(row.value)}


@transaction.atomic
def mlflow_run_update(
    *,
    actor: User,
    mlflow_run: MlflowRun,
    status: str | None = None,
    end_time: int | None = None,
    run_name: str | None = None,
) -> MlflowRun:
    """Status, end and name of a run. When it ends, the latest value of each metric reaches
    the Steward run in the same update."""
    require(actor, Verb.CHANGE, mlflow_run.run)
    steward_status = None
    if status is not None:
        if status not in c.MLFLOW_TO_STEWARD_STATUS:
            raise InvalidInput(f"Unknown run status '{status}'.")
        steward_status = c.MLFLOW_TO_STEWARD_STATUS[status]
    if run_name is not None:
        run_name = text_checked("run_name", run_name, max_length=200, required=False) or None
    ending = steward_status is not None and steward_status != RunStatus.RUNNING
    run_update(
        actor=actor,
        run=mlflow_run.run,
        status=steward_status,
        ended_at=(from_ms(end_time) or datetime.now(tz=UTC)) if ending else None,
        metrics=_finite_latest(mlflow_run) if ending else None,
        name=run_name,
        audit_extra={"mlflow_status": status} if status == "KILLED" else None,
    )
    mlflow_run = MlflowRun.objects.select_for_update().select_related("run").get(pk=mlflow_run.pk)
    if run_name:
        mlflow_run.run_name = run_name
        mlflow_run.tags = {**mlflow_run.tags, c.RUN_NAME_TAG: run_name}
        mlflow_run.save(update_fields=["run_name", "tags"])
    return mlflow_run


@transaction.atomic
def mlflow_run_lifecycle_set(*, actor: User, mlflow_run: MlflowRun, stage: str) -> MlflowRun:
    """Delete (softly, as MLflow does) or restore a run; the Steward run stays as recorded."""
    require(actor, Verb.CHANGE, mlflow_run.run)
    mlflow_run = MlflowRun.objects.select_for_update().select_related("run").get(pk=mlflow_run.pk)
    if mlflow_run.lifecycle_stage == stage:
        return mlflow_run
    mlflow_run.lifecycle_stage = stage
    mlflow_run.save(update_fields=["lifecycle_stage"])
    audit_event_append(
        actor=actor,
        action="mlflow.run." + ("delete" if stage == LifecycleStage.DELETED else "restore"),
        subject=mlflow_run.run,
        data={"uuid": str(mlflow_run.run.uuid)},
    )
    return mlflow_run


@dataclass(frozen=True)
class MetricPoint:
    key: str
    value: float
    timestamp: int
    step: int = 0
    model_id: str = ""


@transaction.atomic
def mlflow_run_log(
    *,
    actor: User,
    mlflow_run: MlflowRun,
    metrics: list[MetricPoint] = (),
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
    deleted_tags: list[str] = (),
) -> MlflowRun:
    """What log-batch, log-metric, log-parameter, set-tag and delete-tag send. Metric points
    become history rows; params, source tags (the run's code), MLflow's other tags, and the
    latest metric values of a run that has already ended go to the registry in one
    ``run.provenance_add``."""
    run = mlflow_run.run
    require(actor, Verb.CHANGE, run)
    params = dict(params or {})
    tags = tags_checked(tags or {})
    for key, value in params.items():
        text_checked("param key", key, max_length=c.MAX_KEY_LENGTH)
        text_checked(f"param '{key}'", value, max_length=c.MAX_PARAM_VALUE_LENGTH, required=False)
    for point in metrics:
        text_checked("metric key", point.key, max_length=c.MAX_KEY_LENGTH)
    mlflow_run = MlflowRun.objects.select_for_update().select_related("run").get(pk=mlflow_run.pk)
    MlflowMetric.objects.bulk_create(
        MlflowMetric(
            run=run,
            key=p.key,
            value=p.value,
            timestamp=p.timestamp,
            step=p.step,
            model_id=p.model_id,
        )
        for p in metrics
    )
    code = {field: tags[tag] for tag, field in c.SOURCE_TAGS.items() if tags.get(tag)}
    changed_tags = {k: v for k, v in tags.items() if mlflow_run.tags.get(k) != v}
    gone = [key for key in deleted_tags if key in mlflow_run.tags]
    extra = {}
    if changed_tags:
        extra["mlflow_tags"] = changed_tags
    if gone:
        extra["mlflow_tags_deleted"] = gone
    ended = mlflow_run.run.status != RunStatus.RUNNING
    run_provenance_add(
        actor=actor,
        run=run,
        params=params,
        code=code,
        metrics=_finite_latest(mlflow_run) if ended and metrics else None,
        audit_extra=extra or None,
    )
    if changed_tags or gone:
        new_tags = {k: v for k, v in {**mlflow_run.tags, **changed_tags}.items() if k not in gone}
        mlflow_run.tags = new_tags
        fields = ["tags"]
        if c.RUN_NAME_TAG in changed_tags:
            mlflow_run.run_name = changed_tags[c.RUN_NAME_TAG][:250]
            fields.append("run_name")
        # A rename through the tag stays MLflow's (it is in this request's chain event);
        # runs/update renames the Steward run too.
        mlflow_run.save(update_fields=fields)
    return mlflow_run


@transaction.atomic
def mlflow_run_inputs_log(
    *, actor: User, mlflow_run: MlflowRun, datasets: list[LoggedDataset]
) -> None:
    """log-inputs: each dataset becomes (or is found as) a version of a dataset of the run's
    team, read by the run in the role its ``mlflow.data.context`` tag names. New datasets and
    versions are the registry's ``dataset.register`` / ``dataset_version.register``; the links
    one ``run.inputs_add``."""
    run = mlflow_run.run
    require(actor, Verb.CHANGE, run)
    links = [(dataset_version_for(actor, run.team, logged), logged.role) for logged in datasets]
    if links:
        run_inputs_add(actor=actor, run=run, inputs=links)
