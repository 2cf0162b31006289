"""Accounts' background tasks."""

from __future__ import annotations

from celery import shared_task

from accounts.services.login_audit import login_events_prune


@shared_task(name="accounts.prune_login_events", acks_late=True)
def prune_login_events() -> int:
    """Celery beat's daily tick: forget unsuccessful sign-in attempts past their keeping time."""
    return login_events_prune()
