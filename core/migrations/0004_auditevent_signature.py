"""Audit events are signed (HMAC-SHA256 of their hash under STEWARD_AUDIT_KEY).

Upgrade path for a chain begun before signing: its rows keep an empty signature (nothing
rewrites an audit row), and this migration appends one signed ``audit.chain_sealed`` event that
names the last unsigned row. Its hash covers theirs, so its signature vouches for them; the
verifier accepts unsigned rows only before that seal (core.audit_verify). A fresh database has
nothing to seal.

On SQLite, adding the column rebuilds the table, which drops its append-only triggers: they are
installed again here."""

import importlib

from django.db import migrations, models

guards = importlib.import_module("core.migrations.0002_auditevent_append_only_guards")


def seal_legacy_chain(apps, schema_editor) -> None:
    from core.audit_seal import legacy_seal_event

    AuditEvent = apps.get_model("core", "AuditEvent")
    head = AuditEvent.objects.order_by("-sequence").values("sequence", "hash").first()
    if head is None:
        return
    seal = legacy_seal_event(head_sequence=head["sequence"], head_hash=head["hash"])
    # Inserted with the historical model: the fields as they are at this migration.
    columns = [f.attname for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    AuditEvent.objects.create(**{name: getattr(seal, name) for name in columns})


def reinstall_sqlite_guards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        guards.install_guards(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_task_request")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="signature",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.RunPython(reinstall_sqlite_guards, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(seal_legacy_chain, migrations.RunPython.noop, elidable=False),
    ]
