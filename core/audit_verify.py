"""Verifying the audit chain: every row's hash, its link to the row before it, sequences without
gaps, every row's signature under the audit key, and the anchors exported to a file the
database cannot rewrite (every anchored sequence must still carry its anchored hash, and the
chain must reach the last anchor). The first problem is named, with the row it was found at."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.audit_anchor import Anchor, AnchorFileError, anchor_file_path, anchors_read
from core.audit_seal import SEAL_ACTION, signature_valid
from core.models import GENESIS_HASH, AuditEvent

VERIFY_CHUNK_SIZE = 2000


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of :func:`audit_chain_verify`. When broken, ``first_broken_sequence`` and
    ``first_broken_id`` name the first row at which the chain fails (the id is None when the
    row is missing: a truncation found by an anchor), and ``reason`` says why; ``checked``
    counts the rows before it that verified. ``head_hash`` is the hash of the last row that
    verified. ``anchors`` counts the anchors checked, ``anchor_file`` is where they were read
    (empty when anchors were not checked), ``legacy`` counts unsigned rows from before signing
    that the chain's seal vouches for."""

    ok: bool
    checked: int
    first_broken_sequence: int | None = None
    first_broken_id: int | None = None
    reason: str = ""
    head_hash: str = GENESIS_HASH
    anchors: int = 0
    anchor_file: str = ""
    legacy: int = 0
    last_anchor: Anchor | None = field(default=None, compare=False)


@dataclass
class _Walk:
    """Where the walk along the chain has got to."""

    checked: int = 0
    prev_hash: str = GENESIS_HASH
    signed_seen: bool = False
    first_unsigned: tuple[int, int] | None = None  # (sequence, id)
    legacy: int = 0


def audit_chain_verify(
    *, anchor_path: str | Path | None = None, use_anchors: bool = True
) -> VerifyResult:
    """Walk the whole chain in sequence order (streamed: memory stays flat however long it is)
    and check it against the anchor file (``settings.STEWARD_AUDIT_ANCHOR_FILE`` unless
    ``anchor_path`` is given; a missing file has no anchors)."""
    path = Path(anchor_path) if anchor_path else anchor_file_path()
    anchors: list[Anchor] = []
    if use_anchors:
        try:
            anchors = anchors_read(path)
        except AnchorFileError as exc:
            return VerifyResult(False, 0, reason=str(exc), anchor_file=str(path))
        for anchor in anchors:
            if not anchor.authentic():
                return VerifyResult(
                    False,
                    0,
                    anchor.sequence,
                    reason=f"{anchor.describe(path)} is not signed with this audit key: the "
                    "anchor file was edited, or STEWARD_AUDIT_KEY is not the key that wrote it",
                    anchor_file=str(path),
                )
    by_sequence = {anchor.sequence: anchor for anchor in anchors}
    extra = {"anchors": len(anchors), "anchor_file": str(path) if use_anchors else ""}
    last = max(anchors, key=lambda anchor: anchor.sequence) if anchors else None
    walk = _Walk()
    events = AuditEvent.objects.order_by("sequence").iterator(chunk_size=VERIFY_CHUNK_SIZE)
    for event in events:
        reason = _row_problem(event, walk) or _anchor_problem(event, by_sequence, path)
        if reason:
            return VerifyResult(
                False, walk.checked, event.sequence, event.pk, reason, walk.prev_hash, **extra
            )
        walk.checked, walk.prev_hash = walk.checked + 1, event.hash
    if walk.first_unsigned is not None and not walk.signed_seen:
        sequence, pk = walk.first_unsigned
        return VerifyResult(
            False,
            sequence - 1,
            sequence,
            pk,
            "no row of the chain is signed: the signatures were removed, or the chain was "
            "never sealed (manage.py migrate seals a chain begun before signing)",
            **extra,
        )
    if last is not None and last.sequence > walk.checked:
        return VerifyResult(
            False,
            walk.checked,
            walk.checked + 1,
            None,
            f"the chain ends at sequence {walk.checked}, but {last.describe(path)} recorded "
            f"sequence {last.sequence} (hash {last.hash[:16]}…): events "
            f"{walk.checked + 1}–{last.sequence} were removed (the chain was truncated)",
            walk.prev_hash,
            **extra,
            last_anchor=last,
        )
    return VerifyResult(
        True, walk.checked, head_hash=walk.prev_hash, legacy=walk.legacy, last_anchor=last, **extra
    )


def audit_chain_verify_since(anchor: Anchor | None) -> VerifyResult:
    """Verify only the rows from ``anchor`` on (the whole chain when None): the anchored row
    must still carry the anchored hash and signature, and every row after it must link, hash
    and be signed. This is what :func:`core.audit_anchor.audit_chain_anchor` checks before it
    anchors a new head, so it never anchors a head that does not verify."""
    if anchor is None:
        return audit_chain_verify(use_anchors=False)
    row = AuditEvent.objects.filter(sequence=anchor.sequence).first()
    if row is None or row.hash != anchor.hash or row.signature != anchor.signature:
        problem = "is missing" if row is None else "no longer carries the anchored hash"
        return VerifyResult(
            False,
            0,
            anchor.sequence,
            row.pk if row else None,
            f"the last anchored row {problem}: the chain was truncated or rewritten",
        )
    walk = _Walk(checked=anchor.sequence, prev_hash=anchor.hash, signed_seen=True)
    events = (
        AuditEvent.objects.filter(sequence__gt=anchor.sequence)
        .order_by("sequence")
        .iterator(chunk_size=VERIFY_CHUNK_SIZE)
    )
    for event in events:
        reason = _row_problem(event, walk)
        if reason:
            checked, prev_hash = walk.checked, walk.prev_hash
            return VerifyResult(False, checked, event.sequence, event.pk, reason, prev_hash)
        walk.checked, walk.prev_hash = walk.checked + 1, event.hash
    return VerifyResult(True, walk.checked, head_hash=walk.prev_hash)


def _row_problem(event: AuditEvent, walk: _Walk) -> str:
    """What is wrong with ``event`` as the next row of the walk, or ""."""
    expected_sequence = walk.checked + 1
    if event.sequence != expected_sequence:
        if event.sequence > expected_sequence:
            missing = (
                f"sequence {expected_sequence} is missing"
                if event.sequence == expected_sequence + 1
                else f"sequences {expected_sequence}–{event.sequence - 1} are missing"
            )
            return f"{missing}: rows before this one were deleted"
        return f"sequence {event.sequence} where {expected_sequence} was expected"
    if event.prev_hash != walk.prev_hash:
        return (
            "its prev_hash is not the hash of the row before it: rows were reordered, replaced "
            "or removed"
        )
    if event.compute_hash() != event.hash:
        return "its content does not match its hash: the row was altered"
    return _signature_problem(event, walk)


def _signature_problem(event: AuditEvent, walk: _Walk) -> str:
    """Signed rows need a valid signature. Unsigned rows are allowed only as the prefix of a
    chain begun before signing, and only if the first signed row is the seal that names
    exactly them."""
    if event.signature:
        if not signature_valid(event.hash, event.signature):
            return (
                "its signature does not match its hash: the row was rewritten by someone "
                "without the audit key (or STEWARD_AUDIT_KEY is not the key that signed it)"
            )
        if not walk.signed_seen:
            walk.signed_seen = True
            if walk.first_unsigned is not None and not _seals_the_prefix(event, walk.checked):
                return (
                    f"rows {walk.first_unsigned[0]}–{walk.checked} are not signed and this first "
                    f"signed row is not the {SEAL_ACTION} event that vouches for them"
                )
            walk.legacy = walk.checked
        return ""
    if walk.signed_seen:
        return (
            "it is not signed, though rows before it are: its signature was removed or it was "
            "written without the audit key"
        )
    if walk.first_unsigned is None:
        walk.first_unsigned = (event.sequence, event.pk)
    return ""


def _seals_the_prefix(event: AuditEvent, unsigned_rows: int) -> bool:
    data = event.data if isinstance(event.data, dict) else {}
    return (
        event.action == SEAL_ACTION
        and data.get("legacy_through") == unsigned_rows
        and data.get("legacy_head_hash") == event.prev_hash
    )


def _anchor_problem(event: AuditEvent, anchors: dict[int, Anchor], path: Path) -> str:
    anchor = anchors.get(event.sequence)
    if anchor is None:
        return ""
    if anchor.hash != event.hash:
        return (
            f"its hash differs from {anchor.describe(path)} ({anchor.hash[:16]}…): the chain "
            "was rewritten from here on"
        )
    if anchor.signature != event.signature:
        return f"its signature differs from {anchor.describe(path)}: the row was re-signed"
    return ""
