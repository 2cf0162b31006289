"""``manage.py verify_audit_chain``: check the whole audit event chain; exit 1 if it is broken."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.audit_verify import audit_chain_verify


class Command(BaseCommand):
    help = (
        "Verify the audit event log: every row's hash, its link to the row before it, sequences "
        "without gaps, every row's signature under STEWARD_AUDIT_KEY, and the anchors in "
        "STEWARD_AUDIT_ANCHOR_FILE (every anchored row still there and unchanged, the chain "
        "reaching the last anchor). Names the first problem and exits 1."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--anchor-file",
            help="Check against this anchor file instead of STEWARD_AUDIT_ANCHOR_FILE (e.g. the "
            "copy saved with a backup).",
        )
        parser.add_argument(
            "--no-anchors", action="store_true", help="Do not check against any anchor file."
        )

    def handle(self, *args, **options) -> None:
        result = audit_chain_verify(
            anchor_path=options["anchor_file"], use_anchors=not options["no_anchors"]
        )
        if not result.ok:
            where = f"id {result.first_broken_id}" if result.first_broken_id else "missing row"
            raise CommandError(
                f"audit chain BROKEN at sequence {result.first_broken_sequence} "
                f"({where}): {result.reason}. "
                f"{result.checked} event{'' if result.checked == 1 else 's'} before it verified.",
                returncode=1,
            )
        self.stdout.write(f"audit chain OK: {result.checked} events")
        self.stdout.write(f"head hash: {result.head_hash}")
        if result.legacy:
            self.stdout.write(
                f"signatures: OK; the first {result.legacy} events predate signing and are "
                "vouched for by the signed seal event after them"
            )
        else:
            self.stdout.write("signatures: OK")
        if not result.anchor_file:
            self.stdout.write("anchors: not checked (--no-anchors)")
        elif result.last_anchor is None:
            self.stdout.write(
                f"anchors: none in {result.anchor_file}; a cut at the end of the chain cannot be "
                "detected until `manage.py anchor_audit_chain` (or celery beat) writes one"
            )
        else:
            last = result.last_anchor
            self.stdout.write(
                f"anchors: {result.anchors} checked in {result.anchor_file}; the last, of "
                f"{last.at}, is sequence {last.sequence}"
            )
