"""Artifact upload: hashed here first, skipped when Steward already holds the bytes for you
(``GET /api/v1/artifacts/{sha256}/``), else streamed (with Content-Length, in blocks) with a
progress bar on a terminal."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import IO


class Progress:
    """A one-line progress bar on stderr; silent when stderr is not a terminal unless asked."""

    def __init__(self, label: str, total: int, enabled: bool | None = None, stream: IO = None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.label, self.total, self.done = label, max(total, 1), 0
        self.started = time.monotonic()
        self.shown_at = 0.0

    def update(self, amount: int) -> None:
        self.done += amount
        now = time.monotonic()
        if self.enabled and (now - self.shown_at > 0.1 or self.done >= self.total):
            self.shown_at = now
            share = min(self.done / self.total, 1.0)
            bar = "#" * int(share * 30)
            rate = self.done / max(now - self.started, 1e-6) / 2**20
            self.stream.write(
                f"\r{self.label} [{bar:<30}] {share:4.0%} "
                f"{self.done / 2**20:.1f}/{self.total / 2**20:.1f} MiB {rate:.1f} MiB/s"
            )
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


class UploadStream:
    """A file read in blocks for the request body, with a length (so requests sends
    Content-Length instead of chunked encoding, which WSGI servers do not pass on)."""

    def __init__(self, path: Path, progress: Progress | None):
        self.handle = open(path, "rb")  # noqa: SIM115 - closed by read() at the end
        self.size = os.fstat(self.handle.fileno()).st_size
        self.progress = progress

    def __len__(self) -> int:
        return self.size

    def read(self, amount: int = -1) -> bytes:
        block = self.handle.read(1 << 20 if amount is None or amount < 0 else max(amount, 1 << 16))
        if self.progress is not None:
            self.progress.update(len(block))
        if not block:
            self.handle.close()
        return block
