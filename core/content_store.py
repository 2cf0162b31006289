"""The content-addressed store: every file Steward keeps under the SHA-256 it recorded for it.

Several apps keep such files (the registry its artifacts, governance its documents' PDFs), each
under a root of its own. ``core`` imports no app, so each app registers its kind of stored file
here, in its ``AppConfig.ready()``: a name and a function listing every file its rows say is
stored. What looks at the store as a whole (``manage.py verify_artifacts``) asks this object,
never an app's models."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from core.hashing import CHUNK_SIZE, sha256_chunks
from core.safe_files import StoredFileMissing, UnsafeStoragePath, open_inside


@dataclass(frozen=True)
class StoredFile:
    """One file the database says is stored: what it is, where, and what it must hash to."""

    label: str
    root: Path
    relative: str
    sha256: str
    size: int | None


StoredFileLister = Callable[[], Iterable[StoredFile]]


class ContentStore:
    """The kinds of stored file the apps registered, in registration order (the apps' order
    in ``INSTALLED_APPS``)."""

    def __init__(self) -> None:
        self._kinds: dict[str, StoredFileLister] = {}

    def register(self, kind: str, files: StoredFileLister) -> None:
        """Register ``files``, listing every stored file of ``kind`` (plural: "artifacts").
        Registering a kind again replaces it: ``ready()`` may run more than once."""
        self._kinds[kind] = files

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self._kinds)

    def stored_files(self) -> Iterator[tuple[str, StoredFile]]:
        """Every stored file, with its kind."""
        for kind, files in self._kinds.items():
            for stored in files():
                yield kind, stored


content_store = ContentStore()


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
