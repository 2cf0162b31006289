"""The audit event log: append an event to the hash chain, and verify the whole chain.

Every app records its decisions, role changes, logins and token uses with
:func:`audit_event_append`, inside the transaction of the change it records, so the event
exists exactly when the change does. Each event is signed with the audit key
(:mod:`core.audit_seal`); :func:`audit_chain_verify` (:mod:`core.audit_verify`) checks hashes,
links, signatures and the anchors exported by :mod:`core.audit_anchor`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from auditlog.cid import get_cid
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from core.audit_seal import event_signature
from core.audit_verify import VerifyResult, audit_chain_verify
from core.errors import InvalidInput
from core.models import GENESIS_HASH, AuditEvent, canonical_value
from core.net import client_ip

__all__ = ["VerifyResult", "audit_chain_verify", "audit_event_append"]

# Key of the PostgreSQL advisory lock that serialises appends ("STEWARD1" in ASCII).
CHAIN_LOCK_KEY = 0x5354455741524431


def audit_event_append(
    *,
    actor,
    action: str,
    subject: models.Model | None = None,
    subject_type: str = "",
    subject_id: str = "",
    subject_label: str = "",
    scope_model: str = "",
    scope_version: str = "",
    data: dict[str, Any] | None = None,
    request=None,
) -> AuditEvent:
    """Append one event to the chain and return it.

    ``actor`` is the user who acted (None, or an anonymous user, for the system). ``subject`` is
    the object acted on (its type, primary key and text are recorded), or give ``subject_type``
    / ``subject_id`` / ``subject_label``. ``scope_model`` (a registered model's name) and
    ``scope_version`` (``"name/3"``) let auditors find the event. ``data`` is the event's
    content; it must be JSON (dates, decimals and UUIDs become strings; whole floats become
    ints). ``request`` supplies the client address; the request id is the one the server gave
    the current request (:class:`core.middleware.StewardAuditlogMiddleware`), never a client's.

    Call it inside the transaction of the change it records: it joins that transaction, and
    holds the chain's lock until it ends, so append as late in the transaction as possible."""
    event = AuditEvent(
        action=_identifier(action, "action", required=True),
        data=_json_content(data),
        remote_addr=(client_ip(request) or "") if request is not None else "",
        request_id=(get_cid() or "")[:255],
        scope_model=_identifier(scope_model, "scope_model"),
        scope_version=_identifier(scope_version, "scope_version"),
        **_actor_fields(actor),
        **_subject_fields(subject, subject_type, subject_id, subject_label),
    )
    _refuse_nul(event)
    # No savepoint: an append that fails must fail the change it records, so there is nothing
    # to roll back to (and inside a request's transaction a savepoint costs two round trips).
    with transaction.atomic(savepoint=False):
        head = _chain_lock_and_head()
        event.sequence, event.prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
        # Taken under the lock, so times never run backwards along the chain.
        event.created_at = timezone.now()
        event.hash = event.compute_hash()
        event.signature = event_signature(event.hash)
        event.save()
    return event


def _chain_lock_and_head() -> tuple[int, str] | None:
    """Take the chain's lock and read its head (sequence, hash), or None for an empty chain.

    The lock serialises appends, so two never read the same head and fork the chain. On
    PostgreSQL a transaction-scoped advisory lock; on SQLite the settings begin every
    transaction with BEGIN IMMEDIATE, which already holds the database's only write lock.
    Should either fail, the unique sequence and prev_hash columns refuse the second row instead
    of forking. The head is read by a statement of its own, after the lock is held (so its
    snapshot sees the append that held the lock before), on the same cursor: every audited
    change runs this."""
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
        cursor.execute(
            f"SELECT sequence, hash FROM {table} ORDER BY sequence DESC LIMIT 1"  # noqa: S608
        )
        return cursor.fetchone()


def _actor_fields(actor) -> dict[str, Any]:
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.pk is None:
        return {"actor": None, "actor_username": ""}
    return {"actor": actor, "actor_username": actor.get_username()[:150]}


def _subject_fields(
    subject: models.Model | None, subject_type: str, subject_id: str, subject_label: str
) -> dict[str, str]:
    if subject is not None:
        meta = subject._meta
        subject_type = subject_type or f"{meta.app_label}.{meta.model_name}"
        subject_id = subject_id or str(subject.pk)
        subject_label = subject_label or str(subject)
    label = str(subject_label)
    return {
        "subject_type": _identifier(subject_type, "subject_type"),
        "subject_id": _identifier(str(subject_id), "subject_id"),
        "subject_label": label if len(label) <= 300 else label[:299] + "…",
    }


def _identifier(value: str, field: str, *, required: bool = False) -> str:
    """Names that filters match exactly are never cut short: a value too long (or a missing
    action) is a programming error."""
    value = value or ""
    max_length = AuditEvent._meta.get_field(field).max_length
    if required and not value:
        raise ValueError(f"audit event needs a {field}")
    if len(value) > max_length:
        raise ValueError(f"audit event {field} is longer than {max_length}: {value[:40]}…")
    return value


def _json_content(data: dict[str, Any] | None) -> dict[str, Any]:
    """``data`` as the plain JSON that is stored and hashed, identical after a database round
    trip."""
    if data is not None and not isinstance(data, dict):
        raise ValueError("audit event data must be a dict")
    return canonical_value(json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder)))


def _refuse_nul(event: AuditEvent) -> None:
    """PostgreSQL cannot store NUL in text or JSON; refuse it as bad input, not a 500."""
    texts = [
        event.actor_username,
        event.subject_type,
        event.subject_id,
        event.subject_label,
        event.remote_addr,
        event.request_id,
        *_strings_in(event.data),
    ]
    if any("\x00" in text for text in texts):
        raise InvalidInput("The text contains a NUL character.")


def _strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings_in(item)
