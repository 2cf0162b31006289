"""Celery tasks of governance: thin wrappers over services, taking ids."""

from __future__ import annotations

from smtplib import SMTPException

from celery import Task, shared_task
from django.db import DatabaseError

from governance.models import Decision
from governance.notifications import decision_notify
from governance.services.documents import document_fail, document_generate


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


class _DocumentTask(Task):
    """Marks the document failed when the last retry of a transient error gives up."""

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        document_fail(args[0], f"Generation failed after {self.request.retries} retries: {exc}")


@shared_task(
    name="governance.generate_document",
    base=_DocumentTask,
    bind=True,
    # Files and the database can fail for a moment; template errors are recorded, not retried.
    autoretry_for=(OSError, DatabaseError),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=False,
    max_retries=5,
)
def generate_document(self, document_id: int) -> str:
    """Render one queued document to Markdown, HTML and PDF. Idempotent: a redelivered task
    for a document that is already done changes nothing."""
    return document_generate(document_id).status
