"""Core's background tasks."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="core.relay_outbox", acks_late=True)
def relay_outbox() -> int:
    """Celery beat's tick: publish the task requests that waited for the broker."""
    from core.outbox import outbox_relay

    return outbox_relay()
