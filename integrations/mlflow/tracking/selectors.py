"""Reads of MLflow's records as a user may see them. An experiment is a folder of its team's
runs, so it is seen exactly as those runs are (``MlflowExperiment.objects.restrict`` by its
team, as runs are); its runs, logged models and artifact files are seen through it. What a
user may not see is absent: the views answer RESOURCE_DOES_NOT_EXIST, never PERMISSION_DENIED."""

from __future__ import annotations

import re
import uuid

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from accounts.models import User
from core.errors import NotFound
from integrations.models import MlflowExperiment, MlflowLoggedModel, MlflowMetric, MlflowRun
from registry.models import Run

RUN_ID = re.compile(r"^[0-9a-f]{32}$")
MODEL_ID = re.compile(r"^m-[0-9a-f]{32}$")


def experiment_visible(user: User) -> QuerySet[MlflowExperiment]:
    """Experiments of the teams whose runs the user may see."""
    return MlflowExperiment.objects.select_related("team").restrict(user)


def experiment_get(user: User, experiment_id) -> MlflowExperiment:
    """The visible experiment with this id (MLflow's ids are decimal strings)."""
    text = str(experiment_id)
    if not text.isdigit() or len(text) > 18:
        raise NotFound(f"No experiment with id '{text[:40]}'.")
    found = experiment_visible(user).filter(pk=int(text)).first()
    if found is None:
        raise NotFound(f"No experiment with id '{text}'.")
    return found


def run_visible(user: User) -> QuerySet[MlflowRun]:
    """MLflow's runs the user may see, with their Steward run and experiment."""
    # A run is of its experiment's team (the tracking services create it so).
    return MlflowRun.objects.select_related("run", "run__created_by", "experiment").filter(
        experiment__in=experiment_visible(user)
    )


def run_uuid_of(run_id: str) -> uuid.UUID:
    """A 32-hex MLflow run id as the Steward run's UUID; anything else names no run."""
    text = str(run_id).strip().lower()
    if not RUN_ID.match(text):
        raise NotFound(f"No run with id '{str(run_id)[:40]}'.")
    return uuid.UUID(hex=text)


def run_get(user: User, run_id: str) -> MlflowRun:
    """The visible MLflow run with this id (deleted ones too: MLflow reads them)."""
    found = run_visible(user).filter(run__uuid=run_uuid_of(run_id)).first()
    if found is None:
        raise NotFound(f"Run '{run_id}' not found.")
    return found


def logged_model_visible(user: User) -> QuerySet[MlflowLoggedModel]:
    return MlflowLoggedModel.objects.select_related("experiment", "run", "created_by").filter(
        experiment__in=experiment_visible(user)
    )


def logged_model_get(user: User, model_id: str) -> MlflowLoggedModel:
    text = str(model_id)
    found = (
        logged_model_visible(user).filter(model_id=text).first() if MODEL_ID.match(text) else None
    )
    if found is None:
        raise NotFound(f"Logged model '{text[:80]}' not found.")
    return found


def metrics_latest(run_pks: list[int]) -> dict[int, dict[str, MlflowMetric]]:
    """Per run, per key, the value MLflow calls latest: the highest step, then the latest
    time, then the highest value. Two queries for any number of runs, and only the latest
    points leave the database (a long history is never read whole)."""
    latest: dict[int, dict[str, MlflowMetric]] = {pk: {} for pk in run_pks}
    if not run_pks:
        return latest
    top = (
        MlflowMetric.objects.filter(run_id=OuterRef("run_id"), key=OuterRef("key"))
        .order_by("-step", "-timestamp", "-value", "-id")
        .values("id")[:1]
    )
    ids = (
        MlflowMetric.objects.filter(run_id__in=run_pks)
        .values("run_id", "key")
        .distinct()
        .annotate(latest_id=Subquery(top))
        .values_list("latest_id", flat=True)
    )
    for row in MlflowMetric.objects.filter(id__in=list(ids)):
        latest[row.run_id][row.key] = row
    return latest


def metric_history(run: Run, key: str) -> QuerySet[MlflowMetric]:
    """A run's points of one metric. ``log_model`` logs the run's points again for its logged
    model (with its ``model_id``); as in MLflow's stores, such a copy of a point the run has is
    the model's metric, not a second point of the run."""
    copied = MlflowMetric.objects.filter(
        run=OuterRef("run"),
        key=OuterRef("key"),
        step=OuterRef("step"),
        timestamp=OuterRef("timestamp"),
        value=OuterRef("value"),
        model_id="",
    )
    return (
        MlflowMetric.objects.filter(run=run, key=key)
        .filter(Q(model_id="") | ~Exists(copied))
        .order_by("step", "timestamp", "id")
    )
