"""Content hashing used wherever Steward records what bytes it saw."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
CHUNK_SIZE = 1024 * 1024


def is_sha256(value: str) -> bool:
    return bool(SHA256_PATTERN.match(value or ""))


def sha256_chunks(chunks: Iterable[bytes]) -> tuple[str, int]:
    """Return (hex digest, total size) of a stream of byte chunks."""
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def sha256_file(path: Path) -> tuple[str, int]:
    with path.open("rb") as handle:
        return sha256_chunks(iter(lambda: handle.read(CHUNK_SIZE), b""))
