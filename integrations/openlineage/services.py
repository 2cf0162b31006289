"""Taking in one OpenLineage event: every registry write goes through the registry's services
(runs, datasets, versions, lineage edges, each with its own audit event); this module writes
only the OpenLineage records beside them, and one ``openlineage.event`` audit event per event
accepted. All of it happens in one transaction: an event is taken in whole or not at all.

Events of one run arrive more than once and out of order (COMPLETE before START, a resent
START). A byte-for-byte repeat changes nothing. Otherwise the run's state moves by these
rules: a terminal event (COMPLETE, FAIL, ABORT) wins over START and RUNNING whatever their
times; among terminal events the latest eventTime wins; START sets the start time (the
earliest one seen); inputs and outputs only accumulate.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.db import transaction

from accounts.models import Team, User
from core.errors import InvalidInput
from core.eventlog import audit_event_append
from integrations.models import (
    OpenLineageEvent,
    OpenLineageJob,
    OpenLineageRun,
    OpenLineageRunDataset,
)
from integrations.openlineage.constants import (
    KNOWN_INTEGRATIONS,
    RUN_STATUS_OF,
    TERMINAL_TYPES,
    DatasetUse,
    EventKind,
    EventType,
)
from integrations.openlineage.datasets import DatasetResolver, key_hash
from integrations.openlineage.events import DatasetRef, ParsedEvent, event_parse
from integrations.openlineage.teams import event_team
from registry.choices import DatasetRole, RunKind, RunStatus
from registry.models import ModelVersion, Run
from registry.services import (
    model_version_run_attach,
    run_create,
    run_inputs_add,
    run_update,
)

# Run uuids derived when an event's runId is already taken by a run it may not write.
RUN_UUID_NAMESPACE = uuid.UUID("8f0c3c52-6f1e-4f4b-9d55-5e7a1c0d2b61")


@transaction.atomic
def openlineage_event_ingest(*, actor: User, body: Any, request=None) -> OpenLineageEvent | None:
    """Take in one RunEvent, DatasetEvent or JobEvent sent by ``actor``. Returns the stored
    event, or None for a repeat of an event already taken in. Raises InvalidInput (400) with
    every problem of an invalid event, Forbidden (403) when the sender may not write for the
    event's namespace; nothing is written then."""
    event = event_parse(body)
    team = event_team(actor, event.namespace)
    # One team's events are taken in one at a time: START and COMPLETE of one run, sent at
    # once, must not both create it.
    list(Team.objects.select_for_update().filter(pk=team.pk).values_list("pk", flat=True))
    if OpenLineageEvent.objects.filter(team=team, event_hash=event.sha256).exists():
        return None
    resolver = DatasetResolver(actor=actor, team=team)
    ol_run = None
    if event.kind == EventKind.RUN:
        ol_run = _run_event_apply(actor, team, event, resolver)
    elif event.kind == EventKind.DATASET:
        resolver.described_version(event.dataset)
    else:
        _job_upsert(team, event, declare=True)
    stored = OpenLineageEvent.objects.create(
        team=team,
        received_by=actor,
        event_hash=event.sha256,
        kind=event.kind,
        event_type=event.event_type,
        event_time=event.event_time,
        ol_run=ol_run,
        body=event.body,
    )
    audit_event_append(
        actor=actor,
        action="openlineage.event",
        subject=ol_run.run if ol_run is not None else stored,
        data=_audit_record(team, event),
        request=request,
    )
    return stored


def _audit_record(team: Team, event: ParsedEvent) -> dict[str, Any]:
    dataset = event.dataset
    return {
        "kind": event.kind,
        "event_type": event.event_type,
        "event_time": event.event_time.isoformat(),
        "run_id": str(event.run_id) if event.run_id else None,
        "job": f"{event.job_namespace}/{event.job_name}" if event.job_name else None,
        "dataset": f"{dataset.namespace}/{dataset.name}" if dataset else None,
        "inputs": len(event.inputs),
        "outputs": len(event.outputs),
        "producer": event.producer,
        "team": team.slug,
        "event_sha256": event.sha256,
    }


# --- RunEvent -------------------------------------------------------------------------------


def _run_event_apply(
    actor: User, team: Team, event: ParsedEvent, resolver: DatasetResolver
) -> OpenLineageRun:
    job = _job_upsert(team, event, declare=False)
    ol_run = (
        OpenLineageRun.objects.select_related("run")
        .filter(team=team, reported_run_id=event.run_id)
        .first()
    )
    run = ol_run.run if ol_run is not None else None
    model_outputs = [ref for ref in event.outputs if ref.model_version is not None]
    data_outputs = [ref for ref in event.outputs if ref.model_version is None]
    kind = RunKind.TRAINING if model_outputs else RunKind.TRANSFORMATION
    inputs = [(ref, resolver.input_version(ref, run)) for ref in event.inputs]
    if run is not None:
        inputs = [(r, v) for r, v in inputs if v.dataset_version.produced_by_run_id != run.pk]
    links = [(v.dataset_version, DatasetRole.INPUT) for _, v in inputs]
    if ol_run is None:
        run = _run_create(actor, team, event, kind, links)
        ol_run = OpenLineageRun.objects.create(
            run=run,
            team=team,
            reported_run_id=event.run_id,
            job=job,
            state=event.event_type if event.event_type in RUN_STATUS_OF else "",
            state_time=event.event_time if event.event_type in RUN_STATUS_OF else None,
        )
    else:
        run_inputs_add(actor=actor, run=run, inputs=links)
        _run_progress(actor, ol_run, event, kind)
    if event.event_type == EventType.COMPLETE:
        written = _outputs_so_far(ol_run, event, data_outputs)
        outputs = [(ref, resolver.output_version(ref, run)) for ref in written]
    else:  # an output exists once its run completed; later events add to what it says
        outputs = [(ref, resolver.existing_output(ref, run)) for ref in data_outputs]
        outputs = [(ref, version) for ref, version in outputs if version is not None]
    for ref in model_outputs:
        _model_version_attach(actor, ref, run)
    for use, pairs in ((DatasetUse.INPUT, inputs), (DatasetUse.OUTPUT, outputs)):
        for ref, version in pairs:
            _run_dataset_record(ol_run, version, use, ref)
    _run_details_update(ol_run, event)
    return ol_run


def _outputs_so_far(
    ol_run: OpenLineageRun, event: ParsedEvent, outputs: list[DatasetRef]
) -> list[DatasetRef]:
    """The outputs of a completing run, each with every facet the run's events gave it (START
    often names an output without its schema; COMPLETE with it), a later eventTime's facets
    winning."""
    said: list[tuple[datetime, int, DatasetRef]] = []
    for order, stored in enumerate(ol_run.events.all()):
        earlier = event_parse(stored.body)
        said += [
            (earlier.event_time, order, ref) for ref in earlier.outputs if not ref.model_version
        ]
    said += [(event.event_time, len(said), ref) for ref in outputs]
    merged: dict[tuple[str, str], DatasetRef] = {}
    for _, _, ref in sorted(said, key=lambda item: (item[0], item[1])):
        known = merged.get((ref.namespace, ref.name))
        if known is not None:
            ref = replace(
                ref,
                facets={**known.facets, **ref.facets},
                use_facets={**known.use_facets, **ref.use_facets},
            )
        merged[(ref.namespace, ref.name)] = ref
    return list(merged.values())


def _run_create(actor: User, team: Team, event: ParsedEvent, kind: str, links: list) -> Run:
    event_type = event.event_type
    source = event.job_facets.get("sourceCodeLocation", {})
    return run_create(
        actor=actor,
        kind=kind,
        team=team,
        name=event.job_name[:200],
        status=RUN_STATUS_OF.get(event_type, RunStatus.RUNNING),
        inputs=links,
        started_at=event.event_time if event_type == EventType.START else None,
        ended_at=event.event_time if event_type in TERMINAL_TYPES else None,
        code_repository=_text_within(source.get("repoUrl") or source.get("url"), 500),
        code_commit=_text_within(source.get("version"), 64),
        code_path=_text_within(source.get("path"), 500),
        run_uuid=_run_uuid(team, event.run_id),
    )


def _run_uuid(team: Team, run_id: uuid.UUID) -> uuid.UUID:
    """The runId, unless a run of any team already has it (one the sender's team reported is
    found by its OpenLineage record before this is asked): then a uuid derived from the team
    and the runId, so that run is neither reached nor described."""
    if not Run.objects.filter(uuid=run_id).exists():
        return run_id
    return uuid.uuid5(RUN_UUID_NAMESPACE, f"{team.pk}:{run_id}")


def _run_progress(actor: User, ol_run: OpenLineageRun, event: ParsedEvent, kind: str) -> None:
    """Move a known run on by one event, whatever order its events arrive in."""
    run, event_type, when = ol_run.run, event.event_type, event.event_time
    changes: dict[str, Any] = {}
    if event_type == EventType.START and (run.started_at is None or when < run.started_at):
        if run.ended_at is not None and when > run.ended_at:
            raise InvalidInput(
                f"eventTime: START at {when.isoformat()} is after the run ended "
                f"({run.ended_at.isoformat()}).",
                field_errors={"eventTime": ["After the run's end."]},
            )
        changes["started_at"] = when
    if _state_applies(ol_run.state, ol_run.state_time, event_type, when):
        if event_type in TERMINAL_TYPES:
            if run.started_at is not None and when < run.started_at:
                raise InvalidInput(
                    f"eventTime: {event_type} at {when.isoformat()} is before the run started "
                    f"({run.started_at.isoformat()}).",
                    field_errors={"eventTime": ["Before the run's start."]},
                )
            changes["ended_at"] = when
        changes["status"] = RUN_STATUS_OF[event_type]
        ol_run.state, ol_run.state_time = event_type, when
    if kind == RunKind.TRAINING and run.kind != RunKind.TRAINING:
        changes["kind"] = RunKind.TRAINING
    if changes:
        ol_run.run = run_update(actor=actor, run=run, **changes)


def _state_applies(current: str, current_time: datetime | None, new: str, when: datetime) -> bool:
    if new not in RUN_STATUS_OF:  # OTHER, or no eventType: no change of state
        return False
    if current in TERMINAL_TYPES:
        return new in TERMINAL_TYPES and current_time is not None and when > current_time
    if new in TERMINAL_TYPES:
        return True
    return current_time is None or when >= current_time


def _model_version_attach(actor: User, ref: DatasetRef, run: Run) -> None:
    """The custom output facet names the version this run produced: attach the run to it.
    A version the sender may not see answers exactly like one that does not exist."""
    wanted = ref.model_version
    version = (
        ModelVersion.objects.select_related("registered_model")
        .restrict(actor)
        .filter(registered_model__name=wanted.name, version=wanted.version)
        .first()
    )
    path = f"{ref.path}.outputFacets.steward_modelVersion"
    if version is None:
        raise InvalidInput(
            f"{path}: model version '{wanted.name}/{wanted.version}' not found.",
            field_errors={path: ["Model version not found."]},
        )
    model_version_run_attach(actor=actor, version=version, run=run)


def _run_dataset_record(ol_run: OpenLineageRun, version, use: str, ref: DatasetRef) -> None:
    lineage = ref.column_lineage if use == DatasetUse.OUTPUT else {}
    row, created = OpenLineageRunDataset.objects.get_or_create(
        ol_run=ol_run,
        ol_version=version,
        use=use,
        defaults={"facets": ref.use_facets, "column_lineage": lineage},
    )
    if created:
        return
    facets = {**row.facets, **ref.use_facets}
    if facets != row.facets or (lineage and lineage != row.column_lineage):
        row.facets = facets
        row.column_lineage = lineage or row.column_lineage
        row.save(update_fields=["facets", "column_lineage"])


def _run_details_update(ol_run: OpenLineageRun, event: ParsedEvent) -> None:
    """Producer, integration, parent, error and facets: a later event's word wins over an
    earlier one's, whatever order they arrived in."""
    newer = ol_run.state_time is None or event.event_time >= ol_run.state_time
    facets = event.run_facets
    ol_run.facets = {**ol_run.facets, **facets} if newer else {**facets, **ol_run.facets}
    if newer or not ol_run.producer:
        ol_run.producer = event.producer
        ol_run.integration = _integration(event) or ol_run.integration
    error = facets.get("errorMessage", {}).get("message")
    if isinstance(error, str) and error:
        ol_run.error_message = error[:10000]
    parent = facets.get("parent", {})
    parent_run = parent.get("run", {}) if isinstance(parent.get("run"), dict) else {}
    parent_job = parent.get("job", {}) if isinstance(parent.get("job"), dict) else {}
    with contextlib.suppress(ValueError):  # no parent, or not a UUID: nothing to keep
        ol_run.parent_run_id = uuid.UUID(str(parent_run.get("runId")))
    if isinstance(parent_job.get("name"), str):
        ol_run.parent_job = f"{parent_job.get('namespace', '')}/{parent_job['name']}"[:1001]
    ol_run.save()


def _integration(event: ParsedEvent) -> str:
    """What emitted the event: the jobType facet's integration, the processing engine, or the
    name of a known integration in the producer URL."""
    named = event.job_facets.get("jobType", {}).get("integration")
    if not isinstance(named, str) or not named:
        named = event.run_facets.get("processing_engine", {}).get("name")
    if isinstance(named, str) and named:
        return named.lower()[:100]
    producer = event.producer.lower()
    return next((name for name in KNOWN_INTEGRATIONS if name in producer), "")


# --- jobs -----------------------------------------------------------------------------------


def _job_upsert(team: Team, event: ParsedEvent, *, declare: bool) -> OpenLineageJob:
    job, _ = OpenLineageJob.objects.select_for_update().get_or_create(
        team=team,
        key_hash=key_hash(event.job_namespace, event.job_name),
        defaults={"namespace": event.job_namespace, "name": event.job_name},
    )
    job.facets = {**job.facets, **event.job_facets}
    if declare:  # a JobEvent says which datasets the job reads and writes
        job.declared_inputs = [_named(ref) for ref in event.inputs]
        job.declared_outputs = [_named(ref) for ref in event.outputs]
    job.save()
    return job


def _named(ref: DatasetRef) -> dict[str, str]:
    return {"namespace": ref.namespace, "name": ref.name}


def _text_within(value: Any, limit: int) -> str:
    """An optional text from a facet, kept only if it fits the registry's field."""
    return value if isinstance(value, str) and len(value) <= limit else ""
