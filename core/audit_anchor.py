"""Anchors: the audit chain's head, exported periodically to places the database cannot rewrite.

Signatures make a rewritten row detectable, but not a chain cut short: the rows that remain
after the newest events are deleted are still perfectly signed. So the head (sequence, hash,
signature, time) is appended, every ``STEWARD_AUDIT_ANCHOR_EVERY_MINUTES`` by celery beat
(``core.anchor_audit_chain``) or by ``manage.py anchor_audit_chain``, to an append-only file
(``STEWARD_AUDIT_ANCHOR_FILE``: one JSON object a line; make it append-only for the service
account, e.g. ``chattr +a``, and copy it off the host with the backups) and, when
``STEWARD_AUDIT_ANCHOR_SYSLOG`` is set, to syslog. ``verify_audit_chain`` then checks that every
anchored sequence still carries its anchored hash and that the chain reaches the last anchor.

A head is anchored only after the rows since the previous anchor verify, so a tampered head is
never vouched for."""

from __future__ import annotations

import fcntl
import hmac
import json
import logging
import os
from dataclasses import dataclass
from logging.handlers import SysLogHandler
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from core.audit_seal import anchor_mac, signature_valid
from core.models import AuditEvent

logger = logging.getLogger(__name__)

_TAIL_BYTES = 8192


class AnchorFileError(Exception):
    """The anchor file cannot be read or holds a line that is not an anchor."""


@dataclass(frozen=True)
class Anchor:
    """One exported head: the chain had ``sequence`` rows ending in ``hash`` at time ``at``.
    ``line`` is its line number in the file (0 when not read from one)."""

    sequence: int
    hash: str
    signature: str
    at: str
    mac: str = ""
    line: int = 0

    @classmethod
    def of_head(cls, *, sequence: int, hash: str, signature: str) -> Anchor:  # noqa: A002
        at = timezone.now().isoformat(timespec="seconds")
        return cls(sequence, hash, signature, at, anchor_mac(sequence, hash, at))

    def authentic(self) -> bool:
        """Written with this audit key: the line's MAC and the event signature it carries."""
        return hmac.compare_digest(
            anchor_mac(self.sequence, self.hash, self.at), self.mac
        ) and signature_valid(self.hash, self.signature)

    def describe(self, path: Path | str | None = None) -> str:
        where = f"line {self.line} of {path}" if path and self.line else "the anchor"
        return f"the anchor of {self.at} ({where})"

    def as_json(self) -> str:
        fields = {"sequence": self.sequence, "hash": self.hash, "signature": self.signature}
        return json.dumps(
            {**fields, "at": self.at, "mac": self.mac},
            sort_keys=True,
            separators=(",", ":"),
        )


@dataclass(frozen=True)
class AnchorOutcome:
    """What :func:`audit_chain_anchor` did: ``written`` is False when the head was already the
    last anchor (or the chain is empty: ``anchor`` None); ``problem`` names why nothing could be
    anchored (the rows since the last anchor do not verify)."""

    anchor: Anchor | None
    written: bool
    problem: str = ""


def anchor_file_path() -> Path:
    return Path(settings.STEWARD_AUDIT_ANCHOR_FILE)


def anchors_read(path: Path) -> list[Anchor]:
    """Every anchor in the file, in file order; a missing file holds none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise AnchorFileError(f"the anchor file {path} cannot be read: {exc}") from exc
    return [
        _anchor_parse(line, number, path)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip()
    ]


def anchor_last(path: Path) -> Anchor | None:
    """The file's last anchor, reading only its tail."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - _TAIL_BYTES))
            tail = handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None
    lines = [line for line in tail.splitlines() if line.strip()]
    if not lines:
        return None
    return _anchor_parse(lines[-1], 0, path)


def _anchor_parse(line: str, number: int, path: Path) -> Anchor:
    try:
        data = json.loads(line)
        anchor = Anchor(
            sequence=int(data["sequence"]),
            hash=str(data["hash"]),
            signature=str(data["signature"]),
            at=str(data["at"]),
            mac=str(data["mac"]),
            line=number,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise AnchorFileError(f"line {number} of the anchor file {path} is not an anchor") from exc
    if anchor.sequence < 1 or len(anchor.hash) != 64:
        raise AnchorFileError(f"line {number} of the anchor file {path} is not an anchor")
    return anchor


def audit_chain_anchor(*, path: Path | None = None) -> AnchorOutcome:
    """Verify the rows since the last anchor, then append the chain's head to the anchor file
    (and syslog). Idempotent: an unchanged head is not written again."""
    from core.audit_verify import audit_chain_verify_since  # it imports this module: a cycle

    path = path or anchor_file_path()
    previous = anchor_last(path)
    head = AuditEvent.objects.order_by("-sequence").values("sequence", "hash", "signature").first()
    if head is None:
        return AnchorOutcome(None, False)
    if previous is not None and (previous.sequence, previous.hash) == (
        head["sequence"],
        head["hash"],
    ):
        return AnchorOutcome(previous, False)
    result = audit_chain_verify_since(previous)
    if not result.ok:
        problem = (
            f"not anchored: the chain does not verify at sequence {result.first_broken_sequence}: "
            f"{result.reason}"
        )
        logger.error("audit chain %s", problem)
        return AnchorOutcome(None, False, problem)
    anchor = Anchor.of_head(
        sequence=head["sequence"], hash=head["hash"], signature=head["signature"]
    )
    _append_line(path, anchor.as_json())
    _send_to_syslog(anchor)
    return AnchorOutcome(anchor, True)


def _append_line(path: Path, line: str) -> None:
    """Append one line with O_APPEND under an exclusive lock, and flush it to disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        os.write(descriptor, (line + "\n").encode("utf-8"))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _send_to_syslog(anchor: Anchor) -> None:
    """Also to syslog when STEWARD_AUDIT_ANCHOR_SYSLOG names a socket path or host:port."""
    target = getattr(settings, "STEWARD_AUDIT_ANCHOR_SYSLOG", "")
    if not target:
        return
    if target.startswith("/"):
        address: str | tuple[str, int] = target
    else:
        host, _, port = target.rpartition(":")
        address = (host or target, int(port) if host else 514)
    handler = SysLogHandler(address=address, facility=SysLogHandler.LOG_AUTH)
    try:
        message = f"steward-audit-anchor {anchor.as_json()}"
        record = logging.LogRecord("steward.audit", logging.INFO, __file__, 0, message, (), None)
        handler.emit(record)
    finally:
        handler.close()
