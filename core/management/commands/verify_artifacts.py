"""``manage.py verify_artifacts``: re-hash every stored file and compare it with the database.

Checks each artifact under ``STEWARD_ARTIFACT_ROOT`` and each generated document's PDF under
``STEWARD_DOCUMENTS_ROOT`` against the SHA-256 and size recorded for it. Lists every file that
is missing, altered or unsafe (a link), and exits 1 if there is any. Run it after a restore
(docs/backup.md) and whenever the storage is in doubt."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.hashing import CHUNK_SIZE, sha256_chunks
from core.safe_files import StoredFileMissing, UnsafeStoragePath, open_inside

MAX_LISTED = 50


@dataclass(frozen=True)
class StoredFile:
    """One file the database says is stored: what it is, where, and what it must hash to."""

    label: str
    root: Path
    relative: str
    sha256: str
    size: int | None


def stored_files() -> Iterator[tuple[str, StoredFile]]:
    """Every stored file, by kind. The models are looked up by name: ``core`` imports no app."""
    artifact = apps.get_model("registry", "Artifact")
    for pk, sha256, size in artifact.objects.order_by("pk").values_list(
        "pk", "sha256", "size_bytes"
    ):
        relative = f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"
        label = f"artifact {pk} ({sha256})"
        yield "artifacts", StoredFile(label, Path(settings.ARTIFACT_ROOT), relative, sha256, size)
    document = apps.get_model("governance", "GeneratedDocument")
    rows = (
        document.objects.exclude(pdf_path="")
        .order_by("pk")
        .values_list("pk", "pdf_path", "pdf_sha256", "pdf_size")
    )
    for pk, relative, sha256, size in rows:
        label = f"document {pk} ({relative})"
        yield "documents", StoredFile(label, Path(settings.DOCUMENTS_ROOT), relative, sha256, size)


def stored_file_problem(stored: StoredFile) -> str:
    """Why ``stored`` does not match the database, or "" when it does."""
    try:
        with open_inside(stored.root, stored.relative) as handle:
            digest, size = sha256_chunks(iter(lambda: handle.read(CHUNK_SIZE), b""))
    except StoredFileMissing:
        return f"missing: {stored.root / stored.relative}"
    except UnsafeStoragePath as exc:
        return f"unsafe: {exc.message}"
    if digest != stored.sha256:
        return f"sha256 mismatch: the file hashes to {digest}, the database says {stored.sha256}"
    if stored.size is not None and size != stored.size:
        return f"size mismatch: the file has {size} bytes, the database says {stored.size}"
    return ""


class Command(BaseCommand):
    help = (
        "Re-hash every artifact and generated document file and compare it with the SHA-256 and "
        "size in the database. Lists every missing or altered file and exits 1."
    )

    def handle(self, *args, **options) -> None:
        counts = {"artifacts": 0, "documents": 0}
        sizes = {"artifacts": 0, "documents": 0}
        problems: list[str] = []
        for kind, stored in stored_files():
            counts[kind] += 1
            sizes[kind] += stored.size or 0
            problem = stored_file_problem(stored)
            if problem:
                problems.append(f"{stored.label}: {problem}")
        for line in problems[:MAX_LISTED]:
            self.stderr.write(line)
        if len(problems) > MAX_LISTED:
            self.stderr.write(f"… and {len(problems) - MAX_LISTED} more")
        checked = (
            f"{counts['artifacts']} artifacts ({sizes['artifacts']} bytes), "
            f"{counts['documents']} documents ({sizes['documents']} bytes)"
        )
        if problems:
            raise CommandError(
                f"stored files BROKEN: {len(problems)} of {sum(counts.values())} do not match "
                f"the database (checked {checked}).",
                returncode=1,
            )
        self.stdout.write(f"stored files OK: {checked}")
