"""The hourly fan-out of monitoring checks: one ``monitoring.run_checks`` task per active
deployment and window, so that many deployments are checked by as many workers as there are,
instead of one long task checking them all in turn.

Each task is idempotent on its own (results are unique per deployment, kind and window:
``monitoring.services.checks``). The dispatcher also leaves out the windows that need no task:
those whose results are all stored, and those whose task is already queued or running. With
beat ticking more often than every hour (``STEWARD_CHECK_EVERY_MINUTES``), a slow window is
thus not handed to a second worker that would compute the same checks again while the first
is still at it."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from core.models import TaskRequest, TaskRequestState
from core.outbox import task_request
from monitoring.choices import CheckKind, CheckTrigger
from monitoring.models import CheckResult
from monitoring.services.checks import checks_schedule

RUN_CHECKS = "monitoring.run_checks"

Window = tuple[int, datetime, datetime]


def checks_dispatch(now: datetime | None = None) -> list[Window]:
    """Queue the checks of every active deployment over its window ending at the current whole
    hour, one task per (deployment, window), in one transaction (published after its commit).
    Returns the windows queued: not those already done or already queued."""
    windows = checks_schedule(now)
    skip = _windows_done(windows) | _windows_in_flight(windows)
    queued = [w for w in windows if w not in skip]
    with transaction.atomic():
        for deployment_id, start, end in queued:
            task_request(
                RUN_CHECKS, deployment_id, start.isoformat(), end.isoformat(), CheckTrigger.SCHEDULE
            )
    return queued


def _windows_done(windows: list[Window]) -> set[Window]:
    """Windows whose health result is stored: ``checks_run`` stores it last, after the others,
    so the window has nothing left to compute."""
    ends = {end for _, _, end in windows}
    stored = CheckResult.objects.filter(kind=CheckKind.HEALTH, window_end__in=ends).values_list(
        "deployment_id", "window_start", "window_end"
    )
    return set(stored)


def _windows_in_flight(windows: list[Window]) -> set[Window]:
    """Windows with a check task waiting for the broker or handed to it and not finished. A
    failed one is not in flight: the next tick queues its window again. One the broker lost
    is sent again by the outbox relay (``STEWARD_OUTBOX_RESEND_AFTER_MINUTES``)."""
    ends = {end.isoformat() for _, _, end in windows}
    waiting = TaskRequest.objects.filter(
        task=RUN_CHECKS,
        state__in=[TaskRequestState.PENDING, TaskRequestState.SENT],
        args__2__in=ends,
    ).values_list("args", flat=True)
    # Compared as instants, not as text: the same hour may be written with another offset.
    return {
        (args[0], datetime.fromisoformat(args[1]), datetime.fromisoformat(args[2]))
        for args in waiting
    }
