"""The audit chain's signatures and anchors: a rewrite without the key, a cut at the end after an
anchor, an edited anchor file and stripped signatures are each named by verify_audit_chain;
anchoring is idempotent and refuses to vouch for a chain that does not verify; a chain begun
before signing is sealed by the migration and verifies; the request id is the server's."""

from __future__ import annotations

import importlib
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from core.audit_anchor import anchors_read, audit_chain_anchor
from core.audit_seal import SEAL_ACTION, event_signature
from core.audit_verify import audit_chain_verify
from core.eventlog import audit_event_append
from core.models import GENESIS_HASH, AuditEvent
from core.tests.test_audit_chain import guards_lifted, raw_sql
from tests.factories import UserFactory

signature_migration = importlib.import_module("core.migrations.0004_auditevent_signature")


@pytest.fixture
def anchor_file(settings, tmp_path):
    settings.STEWARD_AUDIT_ANCHOR_FILE = tmp_path / "anchors" / "audit-anchors.jsonl"
    return settings.STEWARD_AUDIT_ANCHOR_FILE


def append(n: int, actor=None) -> list[AuditEvent]:
    return [audit_event_append(actor=actor, action="test.event", data={"n": i}) for i in range(n)]


def command(name: str, *args: str) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def broken(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        command("verify_audit_chain", *args)
    assert caught.value.returncode == 1
    return str(caught.value)


def test_every_event_is_signed_with_the_audit_key(db):
    event = audit_event_append(actor=None, action="test.event")
    assert event.signature == event_signature(event.hash)
    assert len(event.signature) == 64


def test_a_different_key_does_not_verify(db, settings):
    append(2)
    settings.STEWARD_AUDIT_KEY = "another-key-" * 5
    result = audit_chain_verify()
    assert (result.ok, result.first_broken_sequence) == (False, 1)
    assert "signature does not match" in result.reason


def test_anchoring_writes_the_head_once_and_verify_checks_it(db, anchor_file):
    events = append(3)
    assert "anchored sequence 3" in command("anchor_audit_chain")
    assert "already anchored" in command("anchor_audit_chain")
    [anchor] = anchors_read(anchor_file)
    assert (anchor.sequence, anchor.hash, anchor.signature) == (
        3,
        events[-1].hash,
        events[-1].signature,
    )
    append(2)
    assert audit_chain_anchor().written
    assert [a.sequence for a in anchors_read(anchor_file)] == [3, 5]
    output = command("verify_audit_chain")
    assert "audit chain OK: 5 events" in output
    assert "anchors: 2 checked" in output
    assert "is sequence 5" in output


def test_a_cut_at_the_end_is_named_by_the_anchor(db, anchor_file):
    append(5)
    audit_chain_anchor()
    raw_sql("DELETE FROM core_auditevent WHERE sequence >= 4")
    result = audit_chain_verify()
    assert (result.ok, result.first_broken_sequence, result.first_broken_id) == (False, 4, None)
    assert "the chain ends at sequence 3" in result.reason
    assert "recorded sequence 5" in result.reason and "truncated" in result.reason
    message = broken()
    assert "BROKEN at sequence 4 (missing row)" in message
    assert f"line 1 of {anchor_file}" in message
    # Without the anchors the rest still verifies: that is what the anchor is for.
    assert "audit chain OK: 3 events" in command("verify_audit_chain", "--no-anchors")


def test_anchoring_refuses_to_vouch_for_a_chain_that_does_not_verify(db, anchor_file):
    append(3)
    audit_chain_anchor()
    raw_sql("DELETE FROM core_auditevent WHERE sequence = 3")
    append(1)  # a new sequence 3 with another hash
    outcome = audit_chain_anchor()
    assert outcome.problem and not outcome.written
    assert "last anchored row" in outcome.problem
    with pytest.raises(CommandError, match="not anchored"):
        command("anchor_audit_chain")
    assert len(anchors_read(anchor_file)) == 1


def test_a_rewrite_with_the_key_is_still_caught_by_the_anchor(db, anchor_file):
    """An insider holding the key re-signs a rewritten chain; the anchor still disagrees."""
    events = append(3)
    audit_chain_anchor()
    previous = events[0]
    with guards_lifted(), connection.cursor() as cursor:
        for event in events[1:]:
            event.data = {"rewritten": True}
            event.prev_hash = previous.hash
            event.hash = event.compute_hash()
            cursor.execute(
                "UPDATE core_auditevent SET data = %s, prev_hash = %s, hash = %s, signature = %s "
                "WHERE id = %s",
                [
                    json.dumps(event.data),
                    event.prev_hash,
                    event.hash,
                    event_signature(event.hash),
                    event.pk,
                ],
            )
            previous = event
    result = audit_chain_verify()
    assert (result.first_broken_sequence, result.first_broken_id) == (3, events[2].pk)
    assert "differs from the anchor" in result.reason
    assert audit_chain_verify(use_anchors=False).ok


def test_a_stripped_signature_is_named(db):
    events = append(3)
    raw_sql("UPDATE core_auditevent SET signature = '' WHERE id = %s", [events[2].pk])
    result = audit_chain_verify()
    assert (result.first_broken_sequence, result.first_broken_id) == (3, events[2].pk)
    assert "not signed" in result.reason


def test_an_edited_anchor_file_is_named(db, anchor_file):
    append(2)
    audit_chain_anchor()
    line = json.loads(anchor_file.read_text())
    line["sequence"] = 9
    anchor_file.write_text(json.dumps(line) + "\n")
    assert "not signed with this audit key" in broken()
    anchor_file.write_text("not json\n")
    assert "line 1 of the anchor file" in broken()


def test_anchoring_an_empty_chain_writes_nothing(db, anchor_file):
    assert "nothing to anchor" in command("anchor_audit_chain")
    assert not anchor_file.exists()
    assert "anchors: none" in command("verify_audit_chain")


def test_the_beat_task_anchors(db, anchor_file, settings):
    from core.tasks import anchor_audit_chain

    append(2)
    assert anchor_audit_chain.delay().get() == 2
    assert settings.CELERY_BEAT_SCHEDULE["anchor-audit-chain"]["task"] == "core.anchor_audit_chain"


# --- A chain begun before signing -----------------------------------------------------------


def insert_unsigned(count: int) -> None:
    """Rows as the code before signing wrote them: hashed and linked, no signature."""
    prev = GENESIS_HASH
    for sequence in range(1, count + 1):
        event = AuditEvent(
            sequence=sequence, created_at=timezone.now(), action="legacy.event", prev_hash=prev
        )
        event.hash = event.compute_hash()
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO core_auditevent (sequence, created_at, actor_username, action, "
                "subject_type, subject_id, subject_label, scope_model, scope_version, data, "
                "remote_addr, request_id, prev_hash, hash, signature) VALUES "
                "(%s, %s, '', 'legacy.event', '', '', '', '', '', '{}', '', '', %s, %s, '')",
                [sequence, event.created_at, prev, event.hash],
            )
        prev = event.hash


def test_a_legacy_chain_is_sealed_by_the_migration_and_verifies(db):
    from django.apps import apps

    insert_unsigned(3)
    assert not audit_chain_verify().ok  # unsigned and unsealed
    signature_migration.seal_legacy_chain(apps, None)
    seal = AuditEvent.objects.get(sequence=4)
    assert seal.action == SEAL_ACTION
    assert seal.data["legacy_through"] == 3
    append(2)
    result = audit_chain_verify()
    assert (result.ok, result.checked, result.legacy) == (True, 6, 3)
    assert "the first 3 events predate signing" in command("verify_audit_chain")


def test_an_unsigned_row_after_the_seal_is_not_legacy(db):
    from django.apps import apps

    insert_unsigned(2)
    signature_migration.seal_legacy_chain(apps, None)
    events = append(2)
    raw_sql("UPDATE core_auditevent SET signature = '' WHERE id = %s", [events[1].pk])
    result = audit_chain_verify()
    assert (result.first_broken_sequence, result.first_broken_id) == (4 + 1, events[1].pk)
    assert "not signed" in result.reason


def test_unsigned_rows_without_the_seal_are_named(db):
    insert_unsigned(2)
    append(1)  # a signed row that is not the seal
    result = audit_chain_verify()
    assert not result.ok
    assert "not the audit.chain_sealed event" in result.reason


# --- The request id -------------------------------------------------------------------------


def test_the_request_id_is_the_servers_not_the_clients(db):
    user = UserFactory(username="rid")
    api = APIClient(HTTP_X_CORRELATION_ID="client-chosen", HTTP_X_REQUEST_ID="client-chosen")
    api.force_authenticate(user)
    response = api.post("/api/v1/tokens/", {"name": "ci", "scopes": ["read"]}, format="json")
    assert response.status_code == 201, response.content
    server_id = response["X-Request-ID"]
    assert server_id != "client-chosen" and len(server_id) == 36
    event = AuditEvent.objects.get(action="token.create")
    assert event.request_id == server_id
