"""Abstract bases shared by every app, and the hash-chained audit event log every app appends to
(through :func:`core.eventlog.audit_event_append`, never directly)."""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import models

from core.audit_seal import signature_valid

GENESIS_HASH = "0" * 64


class TimeStampedModel(models.Model):
    """A row that knows when it was created and last changed."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AppendOnlyViolation(Exception):
    """Something tried to change or remove an audit event, or to add one that does not hash."""


def canonical_value(value: Any) -> Any:
    """``value`` as the plain JSON it is stored and hashed as. Floats that are whole numbers
    become ints: PostgreSQL's ``jsonb`` gives ``1e+20`` back as ``100000000000000000000``, so
    hashing the float would not survive the round trip."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("audit data cannot hold NaN or infinity")
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {str(key): canonical_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [canonical_value(item) for item in value]
    return value


def canonical_json(value: Any) -> str:
    """The one serialisation that is hashed: sorted keys, no spaces, UTF-8 text as is."""
    return json.dumps(
        canonical_value(value),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def canonical_time(moment: datetime) -> str:
    """A fixed-width ISO 8601 UTC form, so equal instants always serialise equally."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class AuditEventQuerySet(models.QuerySet):
    """Reads only: bulk writes would skip the chain, and nothing may change or remove a row."""

    def update(self, **kwargs):
        raise AppendOnlyViolation("Audit events cannot be updated.")

    def delete(self):
        raise AppendOnlyViolation("Audit events cannot be deleted.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyViolation("Audit events cannot be updated.")

    def bulk_create(self, objs, *args, **kwargs):
        raise AppendOnlyViolation("Append audit events one by one with audit_event_append().")

    def update_or_create(self, *args, **kwargs):
        raise AppendOnlyViolation("Audit events cannot be updated.")

    delete.queryset_only = True  # type: ignore[attr-defined]  # as Django's own delete()


class AuditEvent(models.Model):
    """One entry of the append-only audit log: a decision, a role change, a login, a token use.

    Rows form a hash chain: ``hash`` is the SHA-256 of the canonical JSON of every other field
    except ``id`` (the database's key; ``sequence`` is the chain's), ``prev_hash`` is the hash of
    the row with the previous sequence (64 zeros for the first). Changing, removing or
    reordering rows therefore breaks the chain, which ``manage.py verify_audit_chain`` detects.
    ``signature`` is the HMAC of ``hash`` under a key held outside the database
    (:mod:`core.audit_seal`), so a row rewritten and rehashed by someone without the key no
    longer verifies either; it is not part of the hash. Rows are written only by
    :func:`core.eventlog.audit_event_append`; they are never updated or
    deleted (refused here, and on PostgreSQL by a trigger)."""

    sequence = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField(db_index=True)
    # PROTECT: deleting the user must not rewrite history (SET_NULL would change hashed rows).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_username = models.CharField(max_length=150, blank=True, db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    subject_type = models.CharField(max_length=100, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    subject_label = models.CharField(max_length=300, blank=True)
    # Where an auditor finds the event: a registered model's name, and "name/3" for a version.
    scope_model = models.CharField(max_length=128, blank=True, db_index=True)
    scope_version = models.CharField(max_length=150, blank=True, db_index=True)
    data = models.JSONField(default=dict, blank=True)
    remote_addr = models.CharField(max_length=45, blank=True)
    request_id = models.CharField(max_length=255, blank=True)
    prev_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64, unique=True)
    # Empty only on rows written before signing existed, vouched for by the chain's seal event.
    signature = models.CharField(max_length=64, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-sequence"]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="core_audit_subject")]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.subject_label}".strip()

    def save(self, *args, **kwargs) -> None:
        """Insert once; a row whose hash does not match its content, or that is not signed with
        the audit key, is refused too, so even a direct ``create()`` cannot slip an unchained
        row in."""
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields"):
            raise AppendOnlyViolation("Audit events cannot be updated.")
        if self.hash != self.compute_hash():
            raise AppendOnlyViolation("An audit event's hash must match its content.")
        if not signature_valid(self.hash, self.signature):
            raise AppendOnlyViolation("An audit event must be signed with the audit key.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyViolation("Audit events cannot be deleted.")

    def hash_payload(self) -> dict[str, Any]:
        """Every field the hash covers, as plain JSON values."""
        return {
            "sequence": self.sequence,
            "created_at": canonical_time(self.created_at),
            "actor_id": self.actor_id,
            "actor_username": self.actor_username,
            "action": self.action,
            "subject_type": self.subject_type,
            "subject_id": self.subject_id,
            "subject_label": self.subject_label,
            "scope_model": self.scope_model,
            "scope_version": self.scope_version,
            "data": self.data,
            "remote_addr": self.remote_addr,
            "request_id": self.request_id,
            "prev_hash": self.prev_hash,
        }

    def compute_hash(self) -> str:
        return hashlib.sha256(canonical_json(self.hash_payload()).encode("utf-8")).hexdigest()


class TaskRequestState(models.TextChoices):
    """Where a request for background work stands. ``pending``: written in the same transaction
    as the change that asked for it, not yet handed to the task queue (or the queue was
    unreachable); ``sent``: on the queue; ``done`` / ``failed``: a worker finished it."""

    PENDING = "pending", "Queued (waiting for the task queue)"
    SENT = "sent", "Sent to a worker"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class TaskRequest(models.Model):
    """The transactional outbox: every background task is first a row here, committed with the
    change that asked for it, then published to Celery. If the broker is down the row stays
    ``pending`` and is published again by :func:`core.outbox.outbox_relay` once it is back, so
    no request is lost; the row's id is the Celery task id, so a worker's result finds it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    task = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    state = models.CharField(
        max_length=16, choices=TaskRequestState.choices, default=TaskRequestState.PENDING
    )
    publish_attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["state", "created_at"], name="core_taskreq_state_idx")]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)} ({self.state})"


class IdempotencyRecord(models.Model):
    """The first answer to a create request sent with an ``Idempotency-Key`` header, kept so a
    client that lost the answer (a dropped connection, a timeout) can send the request again and
    get that answer instead of a second row. Keys are per user: the same key from someone else
    is a different record, so one user's key never reveals another's answer.

    ``status_code`` is null while the first request is still being served (a concurrent
    duplicate then gets 409); only successful (2xx) answers are kept, a failed request's row is
    removed so the client may retry it. ``fingerprint`` is the SHA-256 of the method, path and
    body: the same key with another request is refused. Rows older than
    ``STEWARD_IDEMPOTENCY_KEEP_HOURS`` are ignored and pruned (:mod:`core.idempotency`)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.BinaryField(default=b"", blank=True)
    content_type = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="core_idempotency_user_key")
        ]

    def __str__(self) -> str:
        state = self.status_code or "in flight"
        return f"{self.method} {self.path} [{self.key}] ({state})"
