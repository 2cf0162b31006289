"""Values every page may show."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from core.outbox import outbox_waiting


def queued_work(request) -> dict:
    """How many background tasks are waiting for the task queue (the broker is unreachable):
    the page header says so, so nobody thinks a requested document or check was forgotten.
    Counted only when a page shows it, and only for signed-in users."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"queued_work": 0}
    return {"queued_work": SimpleLazyObject(lambda: outbox_waiting())}
