"""Reads of the audit trail for auditors: the hash-chained audit events (decisions, role
changes, logins, token use) merged with django-auditlog's field-level changes, newest first,
filtered by model, version, user, period, action and source.

The page and the API page through :func:`trail_keys` (one ordered UNION of the two tables, so a
page costs the same few queries however deep it is) and turn a page of keys into rows with
:func:`trail_rows`; exports stream every matching row with :func:`trail_stream`."""

from __future__ import annotations

import heapq
import operator
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from typing import Any

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import models
from django.db.models import CharField, F, Q, QuerySet, Value
from django.utils import timezone

from core.eventlog import VerifyResult, audit_chain_verify
from core.models import AuditEvent
from governance.models import Annotation, Decision
from registry.models import ModelRoleAssignment, ModelVersion, ModelVersionDataset, RegisteredModel

STREAM_CHUNK_SIZE = 2000
CHAIN_STATUS_CACHE_KEY = "governance:audit-chain-status"
CHAIN_STATUS_MAX_AGE = 60  # seconds
VERSION_KEY = re.compile(r"^(?P<name>[^/\s]+)/(?P<number>\d{1,9})$")


class TrailSource(models.TextChoices):
    CHAIN = "chain", "Audit event (hash chain)"
    CHANGE = "change", "Field change (auditlog)"


CHANGE_ACTIONS: dict[int, str] = {
    LogEntry.Action.CREATE: "create",
    LogEntry.Action.UPDATE: "update",
    LogEntry.Action.DELETE: "delete",
    LogEntry.Action.ACCESS: "access",
}


# --- Which field changes belong to a model or a version -------------------------------------


@dataclass(frozen=True)
class TrailScope:
    """How the model and version filters find ``model``'s field changes: ``rows(name, number)``
    returns the rows of ``model`` that belong to the registered model ``name`` (``number``
    None) or to its version ``number``, or None when no row of ``model`` belongs to a single
    version."""

    model: type[models.Model]
    rows: Callable[[str, int | None], QuerySet | None]


def lookup_scope(
    model: type[models.Model], *, model_name: str, version: tuple[str, str] | None = None
) -> TrailScope:
    """A scope from lookups: ``model_name`` leads to the registered model's name, ``version``
    to the model's name and the version number."""

    def rows(name: str, number: int | None) -> QuerySet | None:
        if number is None:
            return model._default_manager.filter(**{model_name: name})
        if version is None:
            return None
        return model._default_manager.filter(**{version[0]: name, version[1]: number})

    return TrailScope(model, rows)


def _annotation_rows(name: str, number: int | None) -> QuerySet:
    """Notes on the model (for the model filter), on its versions, and on their decisions."""
    versions = ModelVersion.objects.filter(registered_model__name=name)
    if number is not None:
        versions = versions.filter(version=number)
    decisions = Decision.objects.filter(version__in=versions.values("pk"))
    targets = Q(
        target_type=ContentType.objects.get_for_model(ModelVersion),
        target_id__in=versions.values("pk"),
    ) | Q(
        target_type=ContentType.objects.get_for_model(Decision),
        target_id__in=decisions.values("pk"),
    )
    if number is None:
        targets |= Q(
            target_type=ContentType.objects.get_for_model(RegisteredModel),
            target_id__in=RegisteredModel.objects.filter(name=name).values("pk"),
        )
    return Annotation.objects.filter(targets)


MODEL_VERSION_PATH = ("registered_model__name", "version")
TRAIL_SCOPES: list[TrailScope] = [
    lookup_scope(RegisteredModel, model_name="name"),
    lookup_scope(ModelVersion, model_name=MODEL_VERSION_PATH[0], version=MODEL_VERSION_PATH),
    lookup_scope(
        ModelVersionDataset,
        model_name="model_version__registered_model__name",
        version=("model_version__registered_model__name", "model_version__version"),
    ),
    lookup_scope(ModelRoleAssignment, model_name="registered_model__name"),
    lookup_scope(
        Decision,
        model_name="version__registered_model__name",
        version=("version__registered_model__name", "version__version"),
    ),
    TrailScope(Annotation, _annotation_rows),
]


def trail_scope_register(scope: TrailScope) -> None:
    """Let the model and version filters find another model's field changes."""
    TRAIL_SCOPES.append(scope)


def _changes_in_scope(name: str, number: int | None = None) -> Q | None:
    conditions = []
    for scope in TRAIL_SCOPES:
        rows = scope.rows(name, number)
        if rows is None:
            continue
        content_type = ContentType.objects.get_for_model(scope.model)
        conditions.append(Q(content_type=content_type, object_id__in=rows.values("pk")))
    return reduce(operator.or_, conditions) if conditions else None


# --- Filters --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrailFilters:
    model: str = ""
    version: str = ""
    user: str = ""
    since: datetime | None = None
    until: datetime | None = None
    action: str = ""
    source: str = ""

    @property
    def active(self) -> bool:
        return any(self.as_dict().values())

    def as_dict(self) -> dict[str, str]:
        """The filters as given, for exports to say what they contain."""
        return {
            "model": self.model,
            "version": self.version,
            "user": self.user,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "action": self.action,
            "source": self.source,
        }

    @property
    def version_parts(self) -> tuple[str, int] | None:
        match = VERSION_KEY.match(self.version)
        return (match["name"], int(match["number"])) if match else None


def _audit_events(filters: TrailFilters) -> QuerySet[AuditEvent] | None:
    if filters.source not in ("", TrailSource.CHAIN):
        return None
    events = AuditEvent.objects.all()
    if filters.model:
        events = events.filter(scope_model=filters.model)
    if filters.version:
        events = events.filter(scope_version=filters.version)
    if filters.user:
        events = events.filter(actor_username__iexact=filters.user)
    if filters.since:
        events = events.filter(created_at__gte=filters.since)
    if filters.until:
        events = events.filter(created_at__lt=filters.until)
    if filters.action:
        events = events.filter(action__icontains=filters.action)
    return events


def _field_changes(filters: TrailFilters) -> QuerySet[LogEntry] | None:
    if filters.source not in ("", TrailSource.CHANGE):
        return None
    changes = LogEntry.objects.all()
    if filters.action:
        codes = [code for code, name in CHANGE_ACTIONS.items() if filters.action.lower() in name]
        if not codes:
            return None
        changes = changes.filter(action__in=codes)
    for scope in (
        _changes_in_scope(filters.model) if filters.model else Q(),
        _changes_in_scope(*filters.version_parts) if filters.version_parts else Q(),
    ):
        if scope is None:
            return None
        changes = changes.filter(scope)
    if filters.user:
        changes = changes.filter(actor__username__iexact=filters.user)
    if filters.since:
        changes = changes.filter(timestamp__gte=filters.since)
    if filters.until:
        changes = changes.filter(timestamp__lt=filters.until)
    return changes


# --- Pages and exports ----------------------------------------------------------------------


def trail_keys(filters: TrailFilters) -> QuerySet | list:
    """The matching trail as ordered ``{"kind", "at", "key"}`` dicts, newest first (ties: chain
    events before field changes, then the later row first). Slice or paginate it, then pass
    the slice to :func:`trail_rows`. Callers check ``may(user, Verb.READ_AUDIT)`` first."""
    parts = []
    events = _audit_events(filters)
    if events is not None:
        parts.append(events.order_by().values(**_key_columns(TrailSource.CHAIN, "created_at")))
    changes = _field_changes(filters)
    if changes is not None:
        parts.append(changes.order_by().values(**_key_columns(TrailSource.CHANGE, "timestamp")))
    if not parts:
        return []
    keys = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return keys.order_by("-at", "-kind", "-key")


def _key_columns(kind: str, moment: str) -> dict[str, Any]:
    return {"kind": Value(kind, output_field=CharField()), "at": F(moment), "key": F("pk")}


@dataclass(frozen=True)
class TrailRow:
    """One line of the trail, whichever table it came from. ``details`` is an audit event's
    data, or a field change's ``{field: [old, new]}``; ``sequence``, ``prev_hash`` and ``hash``
    are set for audit events only."""

    source: str
    id: int
    at: datetime
    actor: str
    action: str
    subject_type: str
    subject_id: str
    subject_label: str
    scope_model: str
    scope_version: str
    details: dict
    remote_addr: str
    request_id: str
    sequence: int | None = None
    prev_hash: str = ""
    hash: str = ""

    @property
    def sort_key(self) -> tuple[datetime, str, int]:
        return (self.at, self.source, self.id)


def trail_rows(keys: Iterable[dict]) -> list[TrailRow]:
    """The rows behind a page of :func:`trail_keys`, in the same order (two queries)."""
    keys = list(keys)
    event_ids = [key["key"] for key in keys if key["kind"] == TrailSource.CHAIN]
    change_ids = [key["key"] for key in keys if key["kind"] == TrailSource.CHANGE]
    events = AuditEvent.objects.in_bulk(event_ids) if event_ids else {}
    changes = (
        LogEntry.objects.select_related("actor", "content_type").in_bulk(change_ids)
        if change_ids
        else {}
    )
    return [
        row_from_event(events[key["key"]])
        if key["kind"] == TrailSource.CHAIN
        else row_from_change(changes[key["key"]])
        for key in keys
    ]


def trail_stream(filters: TrailFilters) -> Iterator[TrailRow]:
    """Every matching row, in :func:`trail_keys` order, read in chunks from both tables and
    merged, so an export of any size uses little memory."""
    streams: list[Iterator[TrailRow]] = []
    events = _audit_events(filters)
    if events is not None:
        ordered = events.order_by("-created_at", "-pk").iterator(chunk_size=STREAM_CHUNK_SIZE)
        streams.append(map(row_from_event, ordered))
    changes = _field_changes(filters)
    if changes is not None:
        ordered = (
            changes.select_related("actor", "content_type")
            .order_by("-timestamp", "-pk")
            .iterator(chunk_size=STREAM_CHUNK_SIZE)
        )
        streams.append(map(row_from_change, ordered))
    return heapq.merge(*streams, key=lambda row: row.sort_key, reverse=True)


def row_from_event(event: AuditEvent) -> TrailRow:
    return TrailRow(
        source=TrailSource.CHAIN,
        id=event.pk,
        at=event.created_at,
        actor=event.actor_username,
        action=event.action,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        subject_label=event.subject_label,
        scope_model=event.scope_model,
        scope_version=event.scope_version,
        details=event.data,
        remote_addr=event.remote_addr,
        request_id=event.request_id,
        sequence=event.sequence,
        prev_hash=event.prev_hash,
        hash=event.hash,
    )


def row_from_change(entry: LogEntry) -> TrailRow:
    content_type = entry.content_type
    return TrailRow(
        source=TrailSource.CHANGE,
        id=entry.pk,
        at=entry.timestamp,
        actor=entry.actor.get_username() if entry.actor else (entry.actor_email or ""),
        action=CHANGE_ACTIONS.get(entry.action, str(entry.action)),
        subject_type=f"{content_type.app_label}.{content_type.model}",
        subject_id=entry.object_pk,
        subject_label=entry.object_repr,
        scope_model="",
        scope_version="",
        details=entry.changes_dict,
        remote_addr=entry.remote_addr or "",
        request_id=entry.cid or "",
    )


# --- Chain status ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainStatus:
    result: VerifyResult
    checked_at: datetime


def audit_chain_status() -> ChainStatus:
    """The chain's verification, recomputed at most once a minute (it reads every row)."""
    status = cache.get(CHAIN_STATUS_CACHE_KEY)
    if status is None:
        status = ChainStatus(result=audit_chain_verify(), checked_at=timezone.now())
        cache.set(CHAIN_STATUS_CACHE_KEY, status, CHAIN_STATUS_MAX_AGE)
    return status
