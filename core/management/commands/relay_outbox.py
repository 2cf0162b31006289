"""``manage.py relay_outbox``: publish the background tasks that are still queued in the
database (after a broker outage, or with no celery beat running)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from core.models import TaskRequest, TaskRequestState
from core.outbox import outbox_relay


class Command(BaseCommand):
    help = "Publish queued background tasks to the task queue; prints what is still waiting."

    def handle(self, *args, **options) -> None:
        sent = outbox_relay()
        waiting = TaskRequest.objects.filter(state=TaskRequestState.PENDING).count()
        self.stdout.write(f"sent {sent} queued task(s); {waiting} still waiting")
        if waiting and sent == 0:
            self.stderr.write("the task queue is unreachable: check REDIS_URL and the broker")
