"""``manage.py anchor_audit_chain``: export the audit chain's head to the anchor file (and
syslog), after checking the rows since the last anchor; exit 1 if they do not verify."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.audit_anchor import anchor_file_path, audit_chain_anchor


class Command(BaseCommand):
    help = (
        "Append the audit chain's head (sequence, hash, signature, time) to "
        "STEWARD_AUDIT_ANCHOR_FILE, after verifying the rows since the previous anchor. Celery "
        "beat runs the same every STEWARD_AUDIT_ANCHOR_EVERY_MINUTES."
    )

    def handle(self, *args, **options) -> None:
        outcome = audit_chain_anchor()
        if outcome.problem:
            raise CommandError(f"audit chain {outcome.problem}", returncode=1)
        if outcome.anchor is None:
            self.stdout.write("audit chain is empty: nothing to anchor")
        elif outcome.written:
            self.stdout.write(
                f"anchored sequence {outcome.anchor.sequence} ({outcome.anchor.hash}) in "
                f"{anchor_file_path()}"
            )
        else:
            self.stdout.write(f"head already anchored: sequence {outcome.anchor.sequence}")
