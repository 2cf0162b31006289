"""The artifact store: content-addressed files under ``settings.ARTIFACT_ROOT``.

Files are written to a temporary name inside the store while they stream in (so the final move
is an atomic rename on the same file system), hashed on the way, and kept once per SHA-256.
Each uploader has an :class:`Artifact` row of their own for the bytes they uploaded."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.access import require_somewhere
from accounts.choices import Verb
from accounts.models import User
from core.content_store import StoredFile
from core.errors import InvalidInput
from core.eventlog import audit_event_append
from core.hashing import is_sha256
from core.safe_files import directory_inside, move_inside, open_inside
from registry.models import Artifact

# An upload still streaming is younger than this; anything older in tmp/ was abandoned.
TMP_MAX_AGE = timedelta(hours=6)


def artifact_root() -> Path:
    root = Path(settings.ARTIFACT_ROOT).resolve()
    root.mkdir(parents=True, exist_ok=True)
    # Uploads stream into tmp/: a link planted there would send them outside the store.
    directory_inside(root, "tmp")
    return root


def artifact_tmp_dir() -> Path:
    """Where uploads stream to before they are renamed into place (a real directory)."""
    return directory_inside(artifact_root(), "tmp")


def artifact_tmp_sweep(*, older_than: timedelta = TMP_MAX_AGE) -> int:
    """Remove what uploads left in ``tmp/`` longer ago than ``older_than``: a request whose
    multipart body failed after several complete file parts, a process killed mid-upload.
    Entries are removed, never followed (a link is unlinked, its target untouched); uploads in
    progress are younger. Returns how many entries were removed."""
    cutoff = time.time() - older_than.total_seconds()
    removed = 0
    with os.scandir(artifact_tmp_dir()) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                continue
            if entry.stat(follow_symlinks=False).st_mtime >= cutoff:
                continue
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                continue  # finished and renamed into the store meanwhile
            removed += 1
    return removed


def artifact_path(artifact: Artifact) -> Path:
    """Absolute path of a stored artifact. The path is built from a validated hex digest only,
    never from anything a client named, so it cannot leave the store."""
    if not is_sha256(artifact.sha256):
        raise InvalidInput("Corrupt artifact digest.")
    return artifact_root() / artifact.relative_path


def artifact_open(artifact: Artifact) -> BinaryIO:
    """The stored file, opened for reading without following any link inside the store
    (:class:`core.safe_files.UnsafeStoragePath`, a 409, if one is there)."""
    if not is_sha256(artifact.sha256):
        raise InvalidInput("Corrupt artifact digest.")
    return open_inside(artifact_root(), artifact.relative_path)


def artifact_stored_files() -> Iterator[StoredFile]:
    """Every artifact the database records, as a file of the content-addressed store
    (registered with ``core.content_store`` by ``RegistryConfig.ready()``)."""
    root = Path(settings.ARTIFACT_ROOT)
    rows = Artifact.objects.order_by("pk").values_list("pk", "sha256", "size_bytes")
    for pk, sha256, size in rows:
        relative = Artifact(sha256=sha256).relative_path
        yield StoredFile(f"artifact {pk} ({sha256})", root, relative, sha256, size)


def artifact_store(
    *,
    actor: User,
    temp_path: Path,
    sha256: str,
    size_bytes: int,
    original_name: str = "",
    content_type: str = "",
) -> tuple[Artifact, bool]:
    """Keep the streamed file at ``temp_path`` (already hashed) in the store, as ``actor``'s
    upload.

    Returns the actor's artifact row and whether it is new. The bytes live once, at their
    content address; each uploader gets a row of their own, so the answer to uploading bytes
    someone else stored is the same as for new bytes (201, the caller's name and time) and
    says nothing about the other upload. Uploading the same bytes again returns the caller's
    own row (200)."""
    try:
        require_somewhere(actor, Verb.CHANGE)
        if not is_sha256(sha256):
            raise InvalidInput("Corrupt artifact digest.")
        # Renamed into place even when the bytes are there already: the same content (it
        # hashed to the address), an atomic replace, the same work whether or not anyone
        # stored it before (no timing tell), and a lost file comes back.
        move_inside(temp_path, artifact_root(), f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}")
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    own = Artifact.objects.filter(sha256=sha256, uploaded_by=actor).first()
    if own is not None:
        return own, False
    try:
        with transaction.atomic():
            artifact = Artifact.objects.create(
                sha256=sha256,
                size_bytes=size_bytes,
                original_name=_safe_name(original_name),
                content_type=content_type[:100],
                uploaded_by=actor,
            )
            audit_event_append(
                actor=actor,
                action="artifact.upload",
                subject=artifact,
                data={
                    "sha256": sha256,
                    "size_bytes": size_bytes,
                    "original_name": artifact.original_name,
                    "content_type": artifact.content_type,
                },
            )
    except IntegrityError:
        # The same user's concurrent upload of the same bytes won the race.
        return Artifact.objects.get(sha256=sha256, uploaded_by=actor), False
    return artifact, True


def _safe_name(name: str) -> str:
    """Keep only the last path component of a client-given name, as a label."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in base if ch.isprintable())[:255]
