"""Core's background tasks."""

from __future__ import annotations

from celery import shared_task

from core.audit_anchor import audit_chain_anchor
from core.idempotency import idempotency_records_prune
from core.outbox import outbox_relay


@shared_task(name="core.relay_outbox", acks_late=True)
def relay_outbox() -> int:
    """Celery beat's tick: publish the task requests that waited for the broker."""
    return outbox_relay()


@shared_task(name="core.anchor_audit_chain", acks_late=True)
def anchor_audit_chain() -> int | None:
    """Celery beat's tick: export the audit chain's head to the anchor file (idempotent: an
    unchanged head is not written again). Returns the anchored sequence."""
    outcome = audit_chain_anchor()
    if outcome.problem:
        # Not retried: a chain that does not verify needs a person, and the log says why.
        raise RuntimeError(f"audit chain {outcome.problem}")
    return outcome.anchor.sequence if outcome.anchor else None


@shared_task(name="core.prune_idempotency_records", acks_late=True)
def prune_idempotency_records() -> int:
    """Celery beat's tick: forget Idempotency-Keys older than STEWARD_IDEMPOTENCY_KEEP_HOURS."""
    return idempotency_records_prune()
