"""The audit chain's seal: every event's hash is signed with a key held outside the database.

The hash chain alone proves that rows were not changed *by someone who did not recompute the
hashes after them*; anyone with write access to the database can rewrite a row and rehash
everything after it. The signature (HMAC-SHA256 of the event's hash under
``settings.STEWARD_AUDIT_KEY``, which comes from the environment or a file, never from the
database) closes that: without the key, a rewritten row cannot be given a valid signature.
Because each hash covers the previous one, a row's signature vouches for every row before it.

Chains written before signing existed are sealed once, by the migration that added the
signature column: it appends an ``audit.chain_sealed`` event, signed, that names the last
unsigned row. The verifier accepts unsigned rows only in that prefix (see
:mod:`core.audit_verify`)."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.utils import timezone

# The action of the one event that vouches for the unsigned rows of a chain begun before
# signing (their number and the hash of the last one are in its data).
SEAL_ACTION = "audit.chain_sealed"
_DOMAIN = b"steward-audit-event-v1:"


def audit_key() -> bytes:
    """The signing key (settings refuse to start production without one)."""
    key = getattr(settings, "STEWARD_AUDIT_KEY", "")
    if not key:
        raise RuntimeError("settings.STEWARD_AUDIT_KEY is not set")
    return key.encode("utf-8")


def event_signature(event_hash: str) -> str:
    """HMAC-SHA256 of an event's hash under the audit key, as 64 hex characters."""
    return hmac.new(audit_key(), _DOMAIN + event_hash.encode("ascii"), hashlib.sha256).hexdigest()


def anchor_mac(sequence: int, event_hash: str, at: str) -> str:
    """HMAC-SHA256 of an anchor line's content, so an anchor file edited by someone without the
    key (a sequence raised, a time changed) is detected, not mistaken for a truncation."""
    message = f"steward-audit-anchor-v1:{sequence}:{event_hash}:{at}".encode()
    return hmac.new(audit_key(), message, hashlib.sha256).hexdigest()


def signature_valid(event_hash: str, signature: str) -> bool:
    """Whether ``signature`` is the audit key's signature of ``event_hash`` (constant time)."""
    return bool(signature) and hmac.compare_digest(event_signature(event_hash), signature)


def legacy_seal_event(*, head_sequence: int, head_hash: str):
    """The unsaved, signed ``audit.chain_sealed`` event that follows the last unsigned row of a
    chain begun before signing. The caller inserts it (the migration, with its historical
    model; nothing else ever needs to)."""
    from core.models import AuditEvent  # core.models imports this module: a cycle

    event = AuditEvent(
        sequence=head_sequence + 1,
        created_at=timezone.now(),
        action=SEAL_ACTION,
        subject_label="audit chain",
        data={
            "legacy_through": head_sequence,
            "legacy_head_hash": head_hash,
            "note": "Rows up to legacy_through were written before events were signed; this "
            "signed event vouches for them (its hash covers theirs).",
        },
        prev_hash=head_hash,
    )
    event.hash = event.compute_hash()
    event.signature = event_signature(event.hash)
    return event
