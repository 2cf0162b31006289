"""The hash-chained audit event log: appends link, the verifier catches altered, deleted and
reordered rows, and neither the ORM nor (on PostgreSQL) the database lets rows change."""

from __future__ import annotations

import importlib
import io
import json
import threading
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from auditlog.cid import correlation_id
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError
from django.test import RequestFactory

from core.audit_seal import event_signature
from core.eventlog import audit_chain_verify, audit_event_append
from core.models import GENESIS_HASH, AppendOnlyViolation, AuditEvent
from tests.factories import TeamFactory, UserFactory
from tests.services import require_postgres

guards = importlib.import_module("core.migrations.0002_auditevent_append_only_guards")


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def chain(alice):
    """Five events by alice, sequences 1 to 5."""
    return [
        audit_event_append(
            actor=alice,
            action="version.transition",
            subject_type="registry.modelversion",
            subject_id=str(n),
            subject_label=f"credit-risk v{n}",
            scope_model="credit-risk",
            scope_version=f"credit-risk/{n}",
            data={"from": "draft", "to": "submitted", "motivation": f"ready {n}"},
        )
        for n in range(1, 6)
    ]


@contextmanager
def guards_lifted():
    """Let raw SQL change audit rows, as someone with direct database access could. The test's
    transaction rolls the DDL back; the guards are also restored on the way out."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ALTER TABLE refuses while deferred foreign-key checks are pending: run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS core_auditevent_no_update")
            cursor.execute("DROP TRIGGER IF EXISTS core_auditevent_no_delete")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("ALTER TABLE core_auditevent ENABLE TRIGGER USER")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            else:
                cursor.execute(guards.SQLITE_UPDATE_TRIGGER)


def raw_sql(sql: str, params: list | None = None) -> None:
    with guards_lifted(), connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def verify_command() -> str:
    out = io.StringIO()
    call_command("verify_audit_chain", stdout=out)
    return out.getvalue()


def broken_command_message() -> str:
    with pytest.raises(CommandError) as caught:
        verify_command()
    assert caught.value.returncode == 1
    return str(caught.value)


# --- Appending ------------------------------------------------------------------------------


def test_it_links_each_event_to_the_one_before(chain, alice):
    assert [event.sequence for event in chain] == [1, 2, 3, 4, 5]
    assert chain[0].prev_hash == GENESIS_HASH
    for before, after in zip(chain, chain[1:], strict=False):
        assert after.prev_hash == before.hash
    stored = AuditEvent.objects.get(sequence=3)
    assert stored.hash == stored.compute_hash() == chain[2].hash
    assert stored.actor == alice
    assert stored.actor_username == "alice"
    assert stored.data == {"from": "draft", "to": "submitted", "motivation": "ready 3"}


def test_it_records_the_subject_the_client_address_and_the_request_id(alice):
    team = TeamFactory(name="Risk", slug="risk")
    request = RequestFactory().post("/x", REMOTE_ADDR="203.0.113.9")
    token = correlation_id.set("req-42")
    try:
        event = audit_event_append(actor=alice, action="team.change", subject=team, request=request)
    finally:
        correlation_id.reset(token)
    event.refresh_from_db()
    assert (event.subject_type, event.subject_id, event.subject_label) == (
        "accounts.team",
        str(team.pk),
        str(team),
    )
    assert event.remote_addr == "203.0.113.9"
    assert event.request_id == "req-42"


def test_it_stores_data_as_plain_json_that_still_verifies_after_the_round_trip(alice):
    """Dates, decimals and whole floats are normalised before hashing, so the stored row hashes
    the same after the database gives it back (PostgreSQL's jsonb rewrites 1e+20)."""
    audit_event_append(
        actor=alice,
        action="metrics.recorded",
        data={
            "when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            "threshold": Decimal("0.80"),
            "big": 1e20,
            "auc": 0.9125,
            "one": 1.0,
            "nested": {"ü": ["é", None, True]},
        },
    )
    event = AuditEvent.objects.get()
    assert event.data["big"] == 10**20
    assert event.data["one"] == 1
    assert event.data["threshold"] == "0.80"
    assert event.hash == event.compute_hash()
    assert audit_chain_verify().ok


def test_it_records_a_system_event_without_an_actor(db):
    event = audit_event_append(actor=None, action="policy.seeded")
    assert event.actor is None
    assert event.actor_username == ""
    assert audit_chain_verify().ok


def test_it_refuses_an_event_without_an_action(alice):
    with pytest.raises(ValueError):
        audit_event_append(actor=alice, action="")
    assert not AuditEvent.objects.exists()


def test_it_refuses_nul_characters_as_bad_input(alice):
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        audit_event_append(actor=alice, action="note", data={"text": "a\x00b"})


def test_it_keeps_the_actor_from_being_deleted(chain, alice):
    """Deleting the user would rewrite the hashed actor of their events."""
    with pytest.raises(ProtectedError):
        alice.delete()


# --- Verifying ------------------------------------------------------------------------------


def test_it_verifies_an_intact_chain(chain):
    result = audit_chain_verify()
    assert result.ok
    assert result.checked == 5
    assert result.head_hash == chain[-1].hash
    output = verify_command()
    assert "audit chain OK: 5 events" in output
    assert chain[-1].hash in output


def test_it_verifies_an_empty_chain(db):
    assert audit_chain_verify().ok
    assert "audit chain OK: 0 events" in verify_command()


def test_it_names_a_row_whose_data_was_altered(chain):
    target = chain[2]
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    raw_sql(
        f"UPDATE core_auditevent SET data = %s{cast} WHERE id = %s",
        [json.dumps({"from": "draft", "to": "approved", "motivation": "ready 3"}), target.pk],
    )
    result = audit_chain_verify()
    assert not result.ok
    assert (result.first_broken_sequence, result.first_broken_id) == (3, target.pk)
    assert result.checked == 2
    assert "altered" in result.reason
    message = broken_command_message()
    assert f"sequence 3 (id {target.pk})" in message
    assert "altered" in message


def test_it_names_the_next_row_when_the_altered_row_was_rehashed(chain):
    """Someone who recomputes the altered row's hash breaks its signature, and (even with the
    key) the link to the next row."""
    target = chain[1]
    target.data = {"forged": True}
    raw_sql(
        "UPDATE core_auditevent SET subject_label = %s, hash = %s WHERE id = %s",
        ["forged", "f" * 64, target.pk],
    )
    result = audit_chain_verify()
    # Row 2's content no longer matches; but even a correct rehash would break row 3's link.
    assert result.first_broken_sequence == 2
    with guards_lifted(), connection.cursor() as cursor:
        forged = AuditEvent.objects.get(pk=target.pk)
        cursor.execute(
            "UPDATE core_auditevent SET hash = %s WHERE id = %s",
            [forged.compute_hash(), target.pk],
        )
    # Rehashed without the audit key: the row's signature no longer matches its hash.
    result = audit_chain_verify()
    assert (result.first_broken_sequence, result.first_broken_id) == (2, target.pk)
    assert "signature" in result.reason
    # Even re-signed with the key, the next row's link to it breaks.
    with guards_lifted(), connection.cursor() as cursor:
        forged = AuditEvent.objects.get(pk=target.pk)
        cursor.execute(
            "UPDATE core_auditevent SET signature = %s WHERE id = %s",
            [event_signature(forged.hash), target.pk],
        )
    result = audit_chain_verify()
    assert (result.first_broken_sequence, result.first_broken_id) == (3, chain[2].pk)
    assert "prev_hash" in result.reason


def test_it_names_the_row_after_a_deleted_one(chain):
    raw_sql("DELETE FROM core_auditevent WHERE id = %s", [chain[1].pk])
    result = audit_chain_verify()
    assert not result.ok
    assert (result.first_broken_sequence, result.first_broken_id) == (3, chain[2].pk)
    assert "sequence 2 is missing" in result.reason
    message = broken_command_message()
    assert f"sequence 3 (id {chain[2].pk})" in message
    assert "deleted" in message


def test_it_catches_a_deleted_first_row(chain):
    raw_sql("DELETE FROM core_auditevent WHERE id = %s", [chain[0].pk])
    result = audit_chain_verify()
    assert (result.first_broken_sequence, result.checked) == (2, 0)


def test_it_catches_rows_whose_sequence_numbers_were_swapped(chain):
    first, second = chain[1], chain[2]
    with guards_lifted(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET sequence = -1 WHERE id = %s", [first.pk])
        cursor.execute("UPDATE core_auditevent SET sequence = 2 WHERE id = %s", [second.pk])
        cursor.execute("UPDATE core_auditevent SET sequence = 3 WHERE id = %s", [first.pk])
    result = audit_chain_verify()
    assert not result.ok
    assert (result.first_broken_sequence, result.first_broken_id) == (2, second.pk)
    assert "reordered" in result.reason
    assert f"sequence 2 (id {second.pk})" in broken_command_message()


def test_it_catches_rows_whose_contents_were_swapped(chain):
    first, second = chain[1], chain[2]
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    with guards_lifted(), connection.cursor() as cursor:
        for row, other in ((first, second), (second, first)):
            cursor.execute(
                f"UPDATE core_auditevent SET data = %s{cast}, subject_label = %s WHERE id = %s",
                [json.dumps(other.data), other.subject_label, row.pk],
            )
    result = audit_chain_verify()
    assert (result.first_broken_sequence, result.first_broken_id) == (2, first.pk)
    assert "altered" in result.reason


def test_it_catches_a_row_inserted_into_the_middle(chain):
    """A forged row needs a free sequence number and a successor that links to it: the rows
    after it are shifted and relinked, and then no longer hash."""
    forged = AuditEvent(
        sequence=3,
        created_at=chain[2].created_at,
        action="version.transition",
        data={"to": "approved"},
        prev_hash=chain[1].hash,
    )
    forged.hash = forged.compute_hash()
    forged.signature = event_signature(forged.hash)  # as someone holding the key could
    with guards_lifted(), connection.cursor() as cursor:
        for event in reversed(chain[2:]):
            cursor.execute(
                "UPDATE core_auditevent SET sequence = sequence + 1 WHERE id = %s", [event.pk]
            )
        cursor.execute(
            "UPDATE core_auditevent SET prev_hash = %s WHERE id = %s", [forged.hash, chain[2].pk]
        )
    forged.save()
    result = audit_chain_verify()
    assert (result.first_broken_sequence, result.first_broken_id) == (4, chain[2].pk)
    assert "altered" in result.reason


def test_the_database_refuses_a_second_successor_of_a_row(chain):
    """Two rows linking to the same predecessor would be a fork; prev_hash is unique."""
    fork = AuditEvent(
        sequence=6,
        created_at=chain[-1].created_at,
        action="version.transition",
        prev_hash=chain[3].hash,
    )
    fork.hash = fork.compute_hash()
    fork.signature = event_signature(fork.hash)
    with pytest.raises(DatabaseError), transaction.atomic():
        fork.save()
    assert audit_chain_verify().ok


# --- Append-only ----------------------------------------------------------------------------


def test_the_orm_refuses_to_update_or_delete_events(chain):
    event = AuditEvent.objects.get(sequence=1)
    event.subject_label = "changed"
    with pytest.raises(AppendOnlyViolation):
        event.save()
    with pytest.raises(AppendOnlyViolation):
        event.delete()
    with pytest.raises(AppendOnlyViolation):
        AuditEvent.objects.filter(sequence=1).update(subject_label="changed")
    with pytest.raises(AppendOnlyViolation):
        AuditEvent.objects.update(subject_label="changed")
    with pytest.raises(AppendOnlyViolation):
        AuditEvent.objects.filter(sequence=1).delete()
    with pytest.raises(AppendOnlyViolation):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyViolation):
        AuditEvent.objects.bulk_update([event], ["subject_label"])
    assert audit_chain_verify().ok


def test_the_orm_refuses_rows_that_do_not_hash(db):
    with pytest.raises(AppendOnlyViolation):
        AuditEvent.objects.create(
            sequence=1, created_at=datetime.now(UTC), action="forged", prev_hash=GENESIS_HASH
        )
    with pytest.raises(AppendOnlyViolation):
        AuditEvent.objects.bulk_create([AuditEvent(sequence=1, action="forged")])
    assert not AuditEvent.objects.exists()


def test_the_database_refuses_a_raw_update(chain):
    """PostgreSQL's trigger, or SQLite's, refuses a raw UPDATE."""
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET subject_label = 'x' WHERE sequence = 1")
    assert AuditEvent.objects.get(sequence=1).subject_label == "credit-risk v1"


@pytest.mark.postgres
def test_postgres_refuses_raw_delete_and_truncate(chain):
    require_postgres()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE sequence = 1")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent")
    # The test database leaves the TRUNCATE guard out (the test runner empties tables with
    # TRUNCATE); install it here, inside this test's transaction, to prove it.
    with connection.cursor() as cursor:
        cursor.execute(guards.PG_TRUNCATE_TRIGGER)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE core_auditevent")
    assert AuditEvent.objects.count() == 5
    assert audit_chain_verify().ok


def test_sqlite_refuses_raw_delete_once_its_guard_is_installed(chain):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite trigger")
    with connection.cursor() as cursor:
        cursor.execute(guards.SQLITE_DELETE_TRIGGER)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE sequence = 1")
    assert AuditEvent.objects.count() == 5


def test_a_production_database_gets_every_guard():
    pg = guards.guard_statements("postgresql", for_tests=False)
    assert guards.PG_ROW_TRIGGER in pg and guards.PG_TRUNCATE_TRIGGER in pg
    sqlite = guards.guard_statements("sqlite", for_tests=False)
    assert guards.SQLITE_UPDATE_TRIGGER in sqlite and guards.SQLITE_DELETE_TRIGGER in sqlite
    assert guards.PG_TRUNCATE_TRIGGER not in guards.guard_statements("postgresql", for_tests=True)


# --- Concurrency ----------------------------------------------------------------------------

WORKERS = 8
PER_WORKER = 10


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_never_fork_the_chain():
    """Eight threads appending at once, each in its own transactions that also write other rows,
    produce one unbroken chain with sequences 1..80."""
    require_postgres()
    actors = [UserFactory(username=f"writer{n}") for n in range(WORKERS)]
    start = threading.Barrier(WORKERS)
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            start.wait()
            for i in range(PER_WORKER):
                with transaction.atomic():
                    TeamFactory(name=f"Team {worker}-{i}", slug=f"team-{worker}-{i}")
                    audit_event_append(
                        actor=actors[worker], action="test.append", data={"w": worker, "i": i}
                    )
        except BaseException as exc:  # reported below; a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=append, args=(w,)) for w in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    total = WORKERS * PER_WORKER
    sequences = list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, total + 1))
    result = audit_chain_verify()
    assert (result.ok, result.checked) == (True, total)
    assert "audit chain OK: 80 events" in verify_command()


def test_the_admin_shows_events_read_only(client, chain):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    listing = client.get("/admin/core/auditevent/")
    assert listing.status_code == 200
    assert "credit-risk v5" in listing.content.decode()
    change = client.get(f"/admin/core/auditevent/{chain[0].pk}/change/")
    assert change.status_code == 200
    assert chain[0].hash in change.content.decode()
    assert client.get("/admin/core/auditevent/add/").status_code == 403
    assert client.post(f"/admin/core/auditevent/{chain[0].pk}/delete/").status_code == 403
    assert audit_chain_verify().ok
