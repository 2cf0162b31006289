"""Background work that survives a broker outage: the transactional outbox.

A service asks for a task with :func:`task_request` inside its transaction. That writes a
:class:`~core.models.TaskRequest` row, so the request commits (or rolls back) with the change
that asked for it, and publishes it to Celery after the commit. When the broker (Redis) cannot
be reached the web request still succeeds: the row stays ``pending``, users see the work as
queued, and :func:`outbox_relay` publishes it once the broker answers again. The relay runs
from celery beat (``core.relay_outbox``), when a worker starts, after any later successful
publish, and by hand (``manage.py relay_outbox``).

Every task is idempotent (CONVENTIONS 5), so publishing a request twice - a relay racing a
commit hook, a message re-sent after Redis lost it - does no harm; the row's id is the Celery
task id, which lets the worker's signals mark the row done or failed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import timedelta

from celery import current_app
from celery.signals import task_failure, task_success, worker_ready
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.models import TaskRequest, TaskRequestState

logger = logging.getLogger(__name__)

# Requests that waited at least this long before being relayed again, so a relay does not race
# the commit hook that is about to publish a request written a moment ago.
RELAY_GRACE = timedelta(seconds=5)
RELAY_BATCH = 500


def task_request(task: str, *args) -> TaskRequest:
    """Ask for ``task`` (its Celery name) to run with ``args`` (JSON values) once the current
    transaction commits. Returns the request row; its state tells whether it has been sent."""
    request = TaskRequest.objects.create(task=task, args=list(args))
    transaction.on_commit(lambda: _publish_after_commit(request.pk))
    return request


def _publish_after_commit(pk: uuid.UUID) -> None:
    # A successful publish means the broker is back: send what waited while it was not.
    if current_app.conf.task_always_eager:
        outbox_publish([pk])
        return
    backlog = TaskRequest.objects.filter(
        state=TaskRequestState.PENDING, created_at__lt=timezone.now() - RELAY_GRACE
    )
    if outbox_publish([pk]) and backlog.exists():
        outbox_relay()


def outbox_publish(ids: Iterable[uuid.UUID]) -> int:
    """Hand the pending requests ``ids`` to the task queue; returns how many were sent. A
    request whose publishing fails stays pending with the error, for the relay. With no broker
    configured (the in-process mode) the task runs here and its exceptions propagate, as
    Celery's eager mode does."""
    sent = 0
    for pk in ids:
        if _publish_one(pk):
            sent += 1
        elif not current_app.conf.task_always_eager:
            return sent  # the broker is unreachable: the rest would fail the same way
    return sent


def _publish_one(pk: uuid.UUID) -> bool:
    # Claim first (pending -> sent), so that in the in-process mode a task that finishes during
    # the call is not marked "sent" again afterwards, and two relays do not both publish it.
    claimed = TaskRequest.objects.filter(pk=pk, state=TaskRequestState.PENDING).update(
        state=TaskRequestState.SENT,
        sent_at=timezone.now(),
        publish_attempts=F("publish_attempts") + 1,
    )
    if not claimed:
        return False
    request = TaskRequest.objects.get(pk=pk)
    task = _task(request.task)
    if current_app.conf.task_always_eager:
        try:
            task.apply_async(args=request.args, task_id=str(request.pk))
        except Exception:
            # Eager mode re-raises before Celery's failure signal would record it.
            _finish(str(request.pk), TaskRequestState.FAILED)
            raise
        return True
    try:
        # No retries here: a web request must not wait for a broker that is down. Nobody waits
        # for the result (the row records the outcome), so the worker stores none and this
        # process does not subscribe to it.
        task.apply_async(
            args=request.args, task_id=str(request.pk), retry=False, ignore_result=True
        )
    except Exception as exc:  # noqa: BLE001 - any failure to publish leaves the request pending
        TaskRequest.objects.filter(pk=pk).update(
            state=TaskRequestState.PENDING,
            sent_at=None,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        logger.warning("task queue unreachable, %s %s stays queued: %s", request.task, pk, exc)
        return False
    return True


def _task(name: str):
    """The registered task called ``name``. A web process has not imported the apps' task
    modules (a worker does at start); Celery's autodiscovery imports them on first need."""
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()
    return current_app.tasks[name]


def outbox_relay(*, now=None, limit: int = RELAY_BATCH) -> int:
    """Publish the requests still pending (older than a few seconds), and re-send those that
    were sent so long ago that the broker must have lost them (Redis restarted without
    persistence); forget requests done more than STEWARD_OUTBOX_KEEP_DAYS ago. Returns how many
    were sent."""
    now = now or timezone.now()
    # Finished requests are kept a while for the admin's view of background work, then dropped;
    # failed ones stay until someone has looked (the admin lists them).
    TaskRequest.objects.filter(
        state=TaskRequestState.DONE,
        finished_at__lt=now - timedelta(days=settings.STEWARD_OUTBOX_KEEP_DAYS),
    ).delete()
    resend_before = now - timedelta(minutes=settings.STEWARD_OUTBOX_RESEND_AFTER_MINUTES)
    lost = TaskRequest.objects.filter(state=TaskRequestState.SENT, sent_at__lt=resend_before)
    lost.update(state=TaskRequestState.PENDING, sent_at=None)
    pending = TaskRequest.objects.filter(
        state=TaskRequestState.PENDING, created_at__lt=now - RELAY_GRACE
    ).values_list("pk", flat=True)[:limit]
    return outbox_publish(list(pending))


def outbox_waiting(*, older_than: timedelta = timedelta(seconds=30)) -> int:
    """How many requests have waited for the task queue longer than ``older_than``: what the
    pages show as queued work."""
    return TaskRequest.objects.filter(
        state=TaskRequestState.PENDING, created_at__lt=timezone.now() - older_than
    ).count()


def _request_id(task_id: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(task_id))
    except ValueError:
        return None  # a task not sent through the outbox (beat's own ticks)


def _finish(task_id: str | None, state: str) -> None:
    pk = _request_id(task_id)
    if pk is not None:
        TaskRequest.objects.filter(pk=pk).exclude(state=TaskRequestState.DONE).update(
            state=state, finished_at=timezone.now()
        )


@task_success.connect
def _on_task_success(sender=None, **kwargs) -> None:
    _finish(sender.request.id if sender is not None else None, TaskRequestState.DONE)


@task_failure.connect
def _on_task_failure(sender=None, task_id=None, **kwargs) -> None:
    _finish(task_id, TaskRequestState.FAILED)


@worker_ready.connect
def _on_worker_ready(**kwargs) -> None:
    """A worker that starts publishes what waited while there was none (or no broker)."""
    try:
        sent = outbox_relay()
    except Exception:  # noqa: BLE001 - a worker must start even if the relay cannot run now
        logger.exception("outbox relay at worker start failed")
        return
    if sent:
        logger.info("outbox relay at worker start sent %s queued task(s)", sent)
