"""How long predictions are kept, and the legal hold that keeps them anyway.

A deployment keeps its predictions ``retention_days`` days, or the global
``STEWARD_PREDICTION_RETENTION_DAYS`` when it sets none; with neither, forever. Whatever the
retention says, a prediction is kept while

* its deployment is under legal hold (set and released by an administrator through
  :func:`deployment_legal_hold_set`, who, when and why recorded and audited);
* the deployment's next scheduled check reads it (its ``check_window_hours``);
* an unresolved alert stands on a check whose window holds it (the evidence of the alert).

So each deployment has a *cutoff*: its predictions before it may go (None: none may).

On PostgreSQL the log is partitioned by time (:mod:`monitoring.partitions`) and retention drops
whole partitions: one is dropped when its end is at or before the cutoff of every deployment
with rows in it (an empty partition when past the global retention); the request-id keys of its
rows are removed afterwards by a task (their ids stay refused until then). Elsewhere (SQLite, or a
PostgreSQL log not partitioned) the rows before each deployment's cutoff are deleted. Every drop
and every deletion is an event of the audit chain with its range and row count, in the
transaction that drops or deletes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from accounts.models import User
from accounts.services.teams import is_administrator
from core.errors import Conflict, Forbidden, InvalidInput
from core.eventlog import audit_event_append
from core.outbox import task_request
from monitoring.choices import AlertState
from monitoring.models import Alert, Deployment, Prediction
from monitoring.partitions import (
    Partition,
    is_partitioned,
    partition_deployments,
    partition_drop,
    partition_list,
    partition_row_counts,
)

MAX_RETENTION_DAYS = 100 * 366


def global_retention_days() -> int | None:
    days = getattr(settings, "STEWARD_PREDICTION_RETENTION_DAYS", None)
    return int(days) if days else None


def retention_days(deployment: Deployment) -> int | None:
    """The days ``deployment`` keeps its predictions; None for forever."""
    return deployment.retention_days or global_retention_days()


def deployment_cutoff(deployment: Deployment, *, now: datetime) -> datetime | None:
    """The moment before which ``deployment``'s predictions may be removed; None when none may
    (no retention, or a legal hold)."""
    return deployment_cutoffs([deployment], now=now)[deployment.pk]


def deployment_cutoffs(
    deployments: list[Deployment], *, now: datetime
) -> dict[int, datetime | None]:
    """:func:`deployment_cutoff` of each deployment, by id, with one query for the evidence of
    their open alerts (a partition holds the rows of many deployments)."""
    evidence = dict(
        Alert.objects.filter(deployment__in=deployments, check_result__isnull=False)
        .exclude(state=AlertState.RESOLVED)
        .order_by()
        .values("deployment")
        .annotate(start=Min("check_result__window_start"))
        .values_list("deployment", "start")
    )
    cutoffs: dict[int, datetime | None] = {}
    for deployment in deployments:
        days = retention_days(deployment)
        if days is None or deployment.legal_hold:
            cutoffs[deployment.pk] = None
            continue
        cutoff = min(
            now - timedelta(days=days), now - timedelta(hours=deployment.check_window_hours)
        )
        start = evidence.get(deployment.pk)
        cutoffs[deployment.pk] = cutoff if start is None else min(cutoff, start)
    return cutoffs


@dataclass
class RetentionOutcome:
    """What one retention run removed: each dropped partition or deleted range with its rows,
    and each partition past the global retention that was kept, with why."""

    dropped: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[dict[str, Any]] = field(default_factory=list)
    kept: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rows_removed(self) -> int:
        return sum(d["rows"] for d in self.dropped) + sum(d["rows"] for d in self.deleted)


def predictions_retention_apply(*, now: datetime | None = None) -> RetentionOutcome:
    """Remove what retention lets go, as the module docstring says; the system acts."""
    now = now or timezone.now()
    outcome = RetentionOutcome()
    if is_partitioned():
        for partition in partition_list():
            if not partition.is_default and partition.end <= now:
                _partition_expire(partition, now, outcome)
    else:
        # order_by(): the model's ordering would make DISTINCT run over every row.
        deployment_ids = Prediction.objects.order_by().values_list("deployment", flat=True)
        for deployment_id in sorted(deployment_ids.distinct()):
            _rows_expire(deployment_id, now, outcome)
    return outcome


def _partition_expire(partition: Partition, now: datetime, outcome: RetentionOutcome) -> None:
    # Decided once without locks (most expired partitions are kept, by a hold or a longer
    # retention), then again under the lock that dropping takes anyway.
    present = dict.fromkeys(partition_deployments(partition), 1)
    if _partition_kept(partition, present, now, outcome):
        return
    with transaction.atomic():
        _partition_drop_locked(partition, now, outcome)


def _partition_kept(partition, counts, now, outcome, *, deployments=None) -> bool:
    if deployments is None:
        deployments = list(Deployment.objects.filter(pk__in=counts).order_by("pk"))
    reasons = []
    cutoffs = deployment_cutoffs(deployments, now=now)
    for deployment in deployments:
        cutoff = cutoffs[deployment.pk]
        if deployment.legal_hold:
            reasons.append(f"{deployment.name}: legal hold")
        elif cutoff is None:
            reasons.append(f"{deployment.name}: no retention")
        elif partition.end > cutoff:
            reasons.append(f"{deployment.name}: kept until {cutoff.isoformat()}")
    if not counts:
        days = global_retention_days()
        if days is None or partition.end > now - timedelta(days=days):
            return True
    if reasons:
        outcome.kept.append({"partition": partition.name, "reasons": reasons})
        return True
    return False


def _partition_drop_locked(partition: Partition, now: datetime, outcome: RetentionOutcome) -> None:
    with connection.cursor() as cursor:
        # The log's lock first, as every writer takes it (no deadlock with an ingestion writing
        # into this partition); no row arrives or leaves between counting and dropping. Waits
        # at most 10 s for running writes, else this partition waits for the next run.
        cursor.execute("SET LOCAL lock_timeout = '10s'")
        cursor.execute("LOCK TABLE monitoring_prediction IN ACCESS EXCLUSIVE MODE")
    counts = partition_row_counts(partition)
    # FOR NO KEY UPDATE: a legal hold set meanwhile waits for this decision; the foreign-key
    # checks of ingestion (FOR KEY SHARE) do not.
    deployments = list(
        Deployment.objects.select_for_update(no_key=True).filter(pk__in=counts).order_by("pk")
    )
    if _partition_kept(partition, counts, now, outcome, deployments=deployments):
        return
    rows = sum(counts.values())
    by_deployment = {d.name: counts[d.pk] for d in deployments}
    partition_drop(partition)
    # The request-id keys of the dropped rows go after the commit, in batches, outside the lock
    # (monitoring.partitions.dropped_keys_remove); asked for in this transaction, so that a
    # drop never commits without it.
    task_request("monitoring.remove_dropped_prediction_keys")
    record = {
        "partition": partition.name,
        "start": partition.start.isoformat(),
        "end": partition.end.isoformat(),
        "rows": rows,
        "deployments": by_deployment,
    }
    audit_event_append(
        actor=None,
        action="prediction.partition_drop",
        subject_type="prediction_partition",
        subject_id=partition.name,
        subject_label=f"Predictions {partition.start:%Y-%m-%d} to {partition.end:%Y-%m-%d}",
        data=record,
    )
    outcome.dropped.append(record)


@transaction.atomic
def _rows_expire(deployment_id: int, now: datetime, outcome: RetentionOutcome) -> None:
    deployment = (
        Deployment.objects.select_for_update(no_key=True, of=("self",))
        .select_related("model_version__registered_model")
        .get(pk=deployment_id)
    )
    cutoff = deployment_cutoff(deployment, now=now)
    if cutoff is None:
        return
    expired = Prediction.objects.filter(deployment=deployment, predicted_at__lt=cutoff)
    oldest = expired.aggregate(oldest=Min("predicted_at"))["oldest"]
    if oldest is None:
        return
    rows, _ = expired.delete()
    version = deployment.model_version
    record = {
        "deployment": deployment.name,
        "start": oldest.isoformat(),
        "end": cutoff.isoformat(),
        "rows": rows,
    }
    audit_event_append(
        actor=None,
        action="prediction.retention_delete",
        subject=deployment,
        scope_model=version.registered_model.name,
        scope_version=version.natural_key,
        data=record,
    )
    outcome.deleted.append(record)


def can_set_retention(user: User) -> bool:
    """Whether ``user`` may set retention and legal holds (what the two services below
    accept): platform administrators. The pages ask it to show their forms."""
    return is_administrator(user)


def _require_administrator(actor: User) -> None:
    if not can_set_retention(actor):
        raise Forbidden("Only a platform administrator sets retention and legal holds.")


def _reason(reason: Any) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("Say why.", field_errors={"reason": ["Required."]})
    return reason.strip()


@transaction.atomic
def deployment_legal_hold_set(
    *, actor: User, deployment: Deployment, hold: bool, reason: str
) -> Deployment:
    """Place (``hold=True``) or release a legal hold on ``deployment``'s predictions: while
    held, retention removes none of them. Administrators only; who, when and why are
    kept on the deployment and in the audit chain."""
    _require_administrator(actor)
    reason = _reason(reason)
    deployment = (
        Deployment.objects.select_for_update()
        .select_related("model_version__registered_model")
        .get(pk=deployment.pk)
    )
    if deployment.legal_hold == hold:
        state = "under" if hold else "not under"
        raise Conflict(f"Deployment '{deployment.name}' is already {state} legal hold.")
    previous = {
        "by": deployment.legal_hold_by.username if deployment.legal_hold_by_id else None,
        "at": deployment.legal_hold_at,
        "reason": deployment.legal_hold_reason,
    }
    deployment.legal_hold = hold
    deployment.legal_hold_by = actor
    deployment.legal_hold_at = timezone.now()
    deployment.legal_hold_reason = reason
    deployment.save(
        update_fields=[
            "legal_hold",
            "legal_hold_by",
            "legal_hold_at",
            "legal_hold_reason",
            "updated_at",
        ]
    )
    version = deployment.model_version
    audit_event_append(
        actor=actor,
        action="deployment.legal_hold" if hold else "deployment.legal_hold_release",
        subject=deployment,
        scope_model=version.registered_model.name,
        scope_version=version.natural_key,
        data={"deployment": deployment.name, "reason": reason, "previous": previous},
    )
    return deployment


@transaction.atomic
def deployment_retention_set(
    *, actor: User, deployment: Deployment, days: int | None, reason: str
) -> Deployment:
    """Set how many days ``deployment`` keeps its predictions (None: the global setting).
    Administrators only; audited with the previous value."""
    _require_administrator(actor)
    reason = _reason(reason)
    if days is not None and (type(days) is not int or not 1 <= days <= MAX_RETENTION_DAYS):
        raise InvalidInput(
            f"Retention is a whole number of days from 1 to {MAX_RETENTION_DAYS}, or empty.",
            field_errors={"retention_days": ["Out of range."]},
        )
    deployment = (
        Deployment.objects.select_for_update()
        .select_related("model_version__registered_model")
        .get(pk=deployment.pk)
    )
    previous = deployment.retention_days
    deployment.retention_days = days
    deployment.save(update_fields=["retention_days", "updated_at"])
    version = deployment.model_version
    audit_event_append(
        actor=actor,
        action="deployment.retention_set",
        subject=deployment,
        scope_model=version.registered_model.name,
        scope_version=version.natural_key,
        data={
            "deployment": deployment.name,
            "retention_days": days,
            "previous": previous,
            "reason": reason,
        },
    )
    return deployment
