"""``manage.py prune_idempotency_keys``: delete the stored answers of Idempotency-Keys older than
STEWARD_IDEMPOTENCY_KEEP_HOURS (celery beat does this hourly; this is for a deployment without
beat)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from core.idempotency import idempotency_records_prune


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than STEWARD_IDEMPOTENCY_KEEP_HOURS."

    def handle(self, *args, **options) -> None:
        deleted = idempotency_records_prune()
        self.stdout.write(f"deleted {deleted} expired Idempotency-Key record(s)")
