"""Database guards that make core_auditevent append-only, below the ORM.

PostgreSQL: a row trigger refuses UPDATE and DELETE, a statement trigger refuses TRUNCATE.
SQLite (the demo database): triggers refuse UPDATE and DELETE.

Django's test runner empties tables between transactional tests with TRUNCATE (PostgreSQL) or
DELETE (SQLite), so on a test database the guard that would stop it is left out; the tests
install it themselves to prove it works. On SQLite, a later migration that makes Django rebuild
this table (most AlterField operations) drops its triggers: such a migration must install
them again with ``install_guards``.
"""

from django.core import mail
from django.db import migrations

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'core_auditevent is append-only: % is refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$
"""
PG_ROW_TRIGGER = """
CREATE TRIGGER core_auditevent_no_update_delete
BEFORE UPDATE OR DELETE ON core_auditevent
FOR EACH ROW EXECUTE FUNCTION core_auditevent_append_only()
"""
PG_TRUNCATE_TRIGGER = """
CREATE TRIGGER core_auditevent_no_truncate
BEFORE TRUNCATE ON core_auditevent
FOR EACH STATEMENT EXECUTE FUNCTION core_auditevent_append_only()
"""
PG_DROP = [
    "DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent",
    "DROP TRIGGER IF EXISTS core_auditevent_no_update_delete ON core_auditevent",
    "DROP FUNCTION IF EXISTS core_auditevent_append_only()",
]

SQLITE_UPDATE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS core_auditevent_no_update
BEFORE UPDATE ON core_auditevent
BEGIN SELECT RAISE(ABORT, 'core_auditevent is append-only: UPDATE is refused'); END
"""
SQLITE_DELETE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS core_auditevent_no_delete
BEFORE DELETE ON core_auditevent
BEGIN SELECT RAISE(ABORT, 'core_auditevent is append-only: DELETE is refused'); END
"""
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS core_auditevent_no_delete",
    "DROP TRIGGER IF EXISTS core_auditevent_no_update",
]


def under_django_tests() -> bool:
    """Django's test environment (``setup_test_environment``, which pytest-django runs before it
    creates the test databases) installs the in-memory mail outbox; nothing else does."""
    return hasattr(mail, "outbox")


def guard_statements(vendor: str, *, for_tests: bool) -> list[str]:
    """The SQL that installs the guards on ``vendor``; none for other databases."""
    if vendor == "postgresql":
        statements = [PG_FUNCTION, PG_ROW_TRIGGER]
        return statements if for_tests else [*statements, PG_TRUNCATE_TRIGGER]
    if vendor == "sqlite":
        statements = [SQLITE_UPDATE_TRIGGER]
        return statements if for_tests else [*statements, SQLITE_DELETE_TRIGGER]
    return []


def install_guards(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for statement in guard_statements(vendor, for_tests=under_django_tests()):
        # params=None: the PL/pgSQL body contains a literal %.
        schema_editor.execute(statement, params=None)


def remove_guards(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": PG_DROP, "sqlite": SQLITE_DROP}.get(vendor, [])
    for statement in statements:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(install_guards, remove_guards, elidable=False)]
