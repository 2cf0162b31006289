"""Celery tasks of governance: thin wrappers over services, taking ids."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from governance.models import Decision
from governance.notifications import decision_notify


@shared_task(
    name="governance.notify_decision",
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=6,
)
def notify_decision(decision_id: int) -> int:
    """E-mail the people who can act after a decision."""
    decision = Decision.objects.select_related("version__registered_model", "actor").get(
        pk=decision_id
    )
    return decision_notify(decision)
