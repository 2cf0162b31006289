"""``manage.py verify_artifacts``: re-hash every stored file and compare it with the database.

Checks every file of the content-addressed store (``core.content_store``: each artifact under
``STEWARD_ARTIFACT_ROOT``, each generated document's PDF under ``STEWARD_DOCUMENTS_ROOT``, as the
apps registered them) against the SHA-256 and size recorded for it. Lists every file that is
missing, altered or unsafe (a link), and exits 1 if there is any. Run it after a restore
(docs/backup.md) and whenever the storage is in doubt."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.content_store import content_store, stored_file_problem

MAX_LISTED = 50


class Command(BaseCommand):
    help = (
        "Re-hash every artifact and generated document file and compare it with the SHA-256 and "
        "size in the database. Lists every missing or altered file and exits 1."
    )

    def handle(self, *args, **options) -> None:
        counts = dict.fromkeys(content_store.kinds, 0)
        sizes = dict.fromkeys(content_store.kinds, 0)
        problems: list[str] = []
        for kind, stored in content_store.stored_files():
            counts[kind] += 1
            sizes[kind] += stored.size or 0
            problem = stored_file_problem(stored)
            if problem:
                problems.append(f"{stored.label}: {problem}")
        for line in problems[:MAX_LISTED]:
            self.stderr.write(line)
        if len(problems) > MAX_LISTED:
            self.stderr.write(f"… and {len(problems) - MAX_LISTED} more")
        checked = ", ".join(f"{counts[kind]} {kind} ({sizes[kind]} bytes)" for kind in counts)
        if problems:
            raise CommandError(
                f"stored files BROKEN: {len(problems)} of {sum(counts.values())} do not match "
                f"the database (checked {checked}).",
                returncode=1,
            )
        self.stdout.write(f"stored files OK: {checked}")
