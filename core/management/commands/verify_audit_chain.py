"""``manage.py verify_audit_chain``: check the whole audit event chain; exit 1 if it is broken."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.eventlog import audit_chain_verify


class Command(BaseCommand):
    help = (
        "Verify the hash chain of the audit event log: every row's hash, its link to the row "
        "before it, and sequences without gaps. Names the first broken row and exits 1."
    )

    def handle(self, *args, **options) -> None:
        result = audit_chain_verify()
        if not result.ok:
            raise CommandError(
                f"audit chain BROKEN at sequence {result.first_broken_sequence} "
                f"(id {result.first_broken_id}): {result.reason}. "
                f"{result.checked} event{'' if result.checked == 1 else 's'} before it verified.",
                returncode=1,
            )
        self.stdout.write(f"audit chain OK: {result.checked} events")
        self.stdout.write(f"head hash: {result.head_hash}")
