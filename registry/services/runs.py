"""Writes on runs."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from django.db import transaction

from accounts.access import require, require_in_team
from accounts.choices import Verb
from accounts.models import Team, User
from core.errors import Conflict, InvalidInput
from core.eventlog import audit_event_append
from registry.choices import DatasetRole, RunKind, RunStatus
from registry.models import DatasetVersion, Run, RunInput
from registry.services.common import full_clean_or_invalid
from registry.services.lineage import lineage_edge_add, lineage_node_ensure
from registry.services.validation import require_mapping, require_metrics, require_packages


@transaction.atomic
def run_create(
    *,
    actor: User,
    kind: str,
    team: Team,
    name: str = "",
    status: str = RunStatus.COMPLETED,
    inputs: Sequence[tuple[DatasetVersion, str]] = (),
    params: dict | None = None,
    metrics: dict | None = None,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    notes: str = "",
    code_repository: str = "",
    code_commit: str = "",
    code_path: str = "",
    python_version: str = "",
    packages: dict | None = None,
    image_digest: str = "",
    run_uuid: uuid.UUID | None = None,
    audit_extra: dict | None = None,
) -> Run:
    """Record a training, transformation or evaluation run and the data it read. ``run_uuid``
    keeps an identifier the run already has elsewhere (an OpenLineage runId); by default a new
    one is drawn. ``audit_extra`` is what a protocol said beside it in the same request (MLflow's
    tags): kept in the same chain event, under ``extra``."""
    require_in_team(actor, Verb.CHANGE, team)
    for dataset_version, _ in inputs:
        require(actor, Verb.VIEW, dataset_version)
    if kind not in RunKind.values:
        raise InvalidInput(f"Unknown run kind '{kind}'.", field_errors={"kind": ["Unknown kind."]})
    if started_at and ended_at and ended_at < started_at:
        raise InvalidInput(
            "ended_at is before started_at.", field_errors={"ended_at": ["Before start."]}
        )
    if run_uuid is not None and Run.objects.filter(uuid=run_uuid).exists():
        raise Conflict(f"A run with id {run_uuid} already exists.")
    run = Run(
        uuid=run_uuid or uuid.uuid4(),
        kind=kind,
        team=team,
        name=name,
        status=status,
        started_at=started_at,
        ended_at=ended_at,
        notes=notes,
        params=require_mapping("params", params),
        metrics=require_metrics("metrics", metrics),
        created_by=actor,
        code_repository=code_repository,
        code_commit=code_commit,
        code_path=code_path,
        python_version=python_version,
        packages=require_packages("packages", packages),
        image_digest=image_digest,
    )
    full_clean_or_invalid(run, exclude=["team"])
    run.save()
    links = list(dict.fromkeys(inputs))
    for _, role in links:
        if role not in DatasetRole.values:
            raise InvalidInput(
                f"Unknown dataset role '{role}'.",
                field_errors={"inputs": [f"Unknown role '{role}'."]},
            )
    RunInput.objects.bulk_create(
        RunInput(run=run, dataset_version=dv, role=role) for dv, role in links
    )
    lineage_node_ensure(run, new=True)
    for dataset_version, role in links:
        lineage_edge_add(source=dataset_version, target=run, relation=role)
    audit_event_append(
        actor=actor,
        action="run.register",
        subject=run,
        data={
            "uuid": str(run.uuid),
            "kind": run.kind,
            "team": team.slug,
            "name": run.name,
            "status": run.status,
            "inputs": [{"dataset_version": dv.natural_key, "role": role} for dv, role in links],
            "params": run.params,
            "metrics": run.metrics,
            "code_commit": run.code_commit,
            **({"extra": audit_extra} if audit_extra else {}),
        },
    )
    return run


@transaction.atomic
def run_update(
    *,
    actor: User,
    run: Run,
    status: str | None = None,
    metrics: dict | None = None,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    notes: str | None = None,
    kind: str | None = None,
    name: str | None = None,
    audit_extra: dict | None = None,
) -> Run:
    """Report progress of a run: its status, final metrics, start and end times, notes, its
    name, and its kind once known (a job first reported as a transformation turns out to train
    a model). What it read and its code stay as recorded. ``audit_extra`` (what a protocol said
    beside it in the same request) joins the chain event when something changed, or makes one
    of its own."""
    require(actor, Verb.CHANGE, run)
    run = Run.objects.select_for_update().get(pk=run.pk)
    before = _run_record(run)
    if status is not None:
        run.status = status
    if kind is not None:
        if kind not in RunKind.values:
            raise InvalidInput(
                f"Unknown run kind '{kind}'.", field_errors={"kind": ["Unknown kind."]}
            )
        run.kind = kind
    if started_at is not None:
        if run.ended_at and started_at > run.ended_at:
            raise InvalidInput(
                "started_at is after ended_at.", field_errors={"started_at": ["After end."]}
            )
        run.started_at = started_at
    if metrics is not None:
        run.metrics = {**run.metrics, **require_metrics("metrics", metrics)}
    if ended_at is not None:
        if run.started_at and ended_at < run.started_at:
            raise InvalidInput(
                "ended_at is before started_at.", field_errors={"ended_at": ["Before start."]}
            )
        run.ended_at = ended_at
    if notes is not None:
        run.notes = notes
    if name is not None:
        run.name = name
    full_clean_or_invalid(run, exclude=["team"])
    run.save()
    after = _run_record(run)
    changes = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    if changes or audit_extra:
        # Metrics reported after the fact are evidence a reviewer reads: who changed which.
        audit_event_append(
            actor=actor,
            action="run.update",
            subject=run,
            data={
                "uuid": str(run.uuid),
                "changes": changes,
                **({"extra": audit_extra} if audit_extra else {}),
            },
        )
    return run


@transaction.atomic
def run_inputs_add(
    *, actor: User, run: Run, inputs: Sequence[tuple[DatasetVersion, str]]
) -> list[RunInput]:
    """Add dataset versions a run read to those already recorded (a run reported in stages,
    as OpenLineage does, names its inputs event by event). Nothing recorded is removed;
    inputs already recorded are skipped. Returns the links added."""
    require(actor, Verb.CHANGE, run)
    for dataset_version, role in inputs:
        require(actor, Verb.VIEW, dataset_version)
        if role not in DatasetRole.values:
            raise InvalidInput(
                f"Unknown dataset role '{role}'.",
                field_errors={"inputs": [f"Unknown role '{role}'."]},
            )
    run = Run.objects.select_for_update().get(pk=run.pk)
    known = set(run.input_links.values_list("dataset_version_id", "role"))
    added = [
        RunInput(run=run, dataset_version=dv, role=role)
        for dv, role in dict.fromkeys(inputs)
        if (dv.pk, role) not in known
    ]
    if not added:
        return []
    RunInput.objects.bulk_create(added)
    for link in added:
        lineage_edge_add(source=link.dataset_version, target=run, relation=link.role)
    audit_event_append(
        actor=actor,
        action="run.inputs_add",
        subject=run,
        data={
            "uuid": str(run.uuid),
            "inputs": [
                {"dataset_version": link.dataset_version.natural_key, "role": link.role}
                for link in added
            ],
        },
    )
    return added


CODE_FIELDS = ("code_repository", "code_commit", "code_path")


@transaction.atomic
def run_provenance_add(
    *,
    actor: User,
    run: Run,
    params: Mapping[str, str] | None = None,
    code: Mapping[str, str] | None = None,
    metrics: Mapping[str, float] | None = None,
    audit_extra: dict | None = None,
) -> Run:
    """Add what a run reports while it runs (MLflow logs params one call at a time): params
    not recorded yet, its code location (``code_repository``, ``code_commit``, ``code_path``)
    where none is recorded yet, and latest metric values (merged as :func:`run_update` does).
    Params and code are added, never rewritten: one already recorded with another value is
    refused; the same value again is nothing new. One chain event records what changed, with
    ``audit_extra`` (what a protocol said beside it in the same request); none when nothing
    did."""
    require(actor, Verb.CHANGE, run)
    params = require_mapping("params", dict(params or {}))
    code = dict(code or {})
    unknown = sorted(set(code) - set(CODE_FIELDS))
    if unknown:
        raise InvalidInput(f"Unknown code field(s): {', '.join(unknown)}.")
    run = Run.objects.select_for_update().get(pk=run.pk)
    added = {}
    for key, value in params.items():
        if key in run.params:
            if run.params[key] != value:
                raise InvalidInput(
                    f"Param '{key}' was already recorded as '{run.params[key]}'; a run's "
                    f"params cannot change (tried '{value}').",
                    field_errors={"params": [f"'{key}' is already recorded."]},
                )
            continue
        added[key] = value
    code_added = {}
    for field, value in code.items():
        current = getattr(run, field)
        if not value or current == value:
            continue
        if current:
            raise InvalidInput(
                f"The run's {field} is already recorded as '{current}'; it cannot change.",
                field_errors={field: ["Already recorded."]},
            )
        code_added[field] = value
    metrics = require_metrics("metrics", dict(metrics or {}))
    metrics_changed = {k: v for k, v in metrics.items() if run.metrics.get(k) != v}
    if not (added or code_added or metrics_changed or audit_extra):
        return run
    run.params = {**run.params, **added}
    run.metrics = {**run.metrics, **metrics_changed}
    for field, value in code_added.items():
        setattr(run, field, value)
    require_mapping("params", run.params)
    full_clean_or_invalid(run, exclude=["team"])
    run.save()
    audit_event_append(
        actor=actor,
        action="run.provenance_add",
        subject=run,
        data={
            "uuid": str(run.uuid),
            "params": added,
            "code": code_added,
            "metrics": metrics_changed,
            **({"extra": audit_extra} if audit_extra else {}),
        },
    )
    return run


def _run_record(run: Run) -> dict:
    return {
        "status": run.status,
        "kind": run.kind,
        "metrics": dict(run.metrics),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "ended_at": run.ended_at.isoformat() if run.ended_at else None,
        "notes": run.notes,
        "name": run.name,
    }
