"""The backup procedure of docs/backup.md, end to end on the real PostgreSQL: a world built
through the services is dumped (pg_dump -Fc), its storage folders archived (tar), both restored
into a fresh database and a new place, and the restored copy verified by ``verify_audit_chain``
and ``verify_artifacts`` run as an operator would (a separate process on the restored
database). Then one artifact byte and one audit event of the copy are altered, and each command
fails naming what was altered. Plus the failures of ``verify_artifacts`` on any database."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from rest_framework.test import APIClient

from core.models import AuditEvent
from governance.choices import DocumentStatus
from governance.services.documents import document_request, document_templates_install
from governance.services.transitions import version_transition
from registry.models import Artifact
from tests.factories import ModelVersionFactory, RegisteredModelFactory
from tests.services import require_postgres

ROOT = Path(__file__).resolve().parents[2]
WHY = "Evidence reviewed; the hold-out metrics reproduce."


def upload(client: APIClient, name: str, payload: bytes) -> str:
    response = client.post(
        "/api/v1/artifacts/", {"file": SimpleUploadedFile(name, payload)}, format="multipart"
    )
    assert response.status_code == 201, response.content
    return response.json()["sha256"]


def artifact_file(root: Path, sha256: str) -> Path:
    return root / "sha256" / sha256[:2] / sha256[2:4] / sha256


def run(*command: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed commands, arguments built by the test
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def ok(*command: str, env: dict | None = None) -> str:
    done = run(*command, env=env)
    assert done.returncode == 0, f"{command[0]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture
def pg_env():
    """libpq's environment for the client tools (pg_dump, createdb, psql) and the test DB."""
    require_postgres()
    db = connection.settings_dict
    env = {
        **os.environ,
        "PGHOST": db["HOST"] or "127.0.0.1",
        "PGPORT": str(db["PORT"] or 5432),
        "PGUSER": db["USER"],
    }
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


@pytest.fixture
def world(contributor, validator, team, settings):
    """Two artifacts uploaded with real bytes, a version registered on one of them, decisions
    (each an audit event) and a generated model card (a PDF in the documents folder)."""
    settings.DOCUMENTS_AUTO_GENERATE = False
    document_templates_install()  # a transactional test's flush removed the migration's rows
    client = APIClient()
    client.force_login(contributor)
    weights = upload(client, "model.pkl", os.urandom(200_000))
    upload(client, "notes.txt", b"feature notes\n" * 100)
    model = RegisteredModelFactory(actor=contributor, name="credit-scorer", owner_team=team)
    version = ModelVersionFactory(
        actor=contributor,
        registered_model=model,
        artifact=Artifact.objects.get(sha256=weights),
        artifact_uri="",
        artifact_sha256="",
    )
    version_transition(actor=contributor, version=version, action="submit", motivation=WHY)
    version_transition(actor=validator, version=version, action="claim", motivation=WHY)
    document = document_request(actor=contributor, version=version, template_name="model-card")
    document.refresh_from_db()
    assert document.status == DocumentStatus.DONE, document.error
    return {"weights": weights, "document": document}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_backup_restored_into_a_fresh_database_verifies_and_tampering_is_named(
    world, pg_env, settings, tmp_path
):
    events = AuditEvent.objects.count()
    assert events >= 2
    source_db = connection.settings_dict["NAME"]
    restored_db = f"{source_db}_restored_{uuid.uuid4().hex[:8]}"
    dump = tmp_path / "steward.dump"

    # 1. The database first, then the files (content addressed, only ever added).
    ok("pg_dump", "--format=custom", f"--file={dump}", source_db, env=pg_env)
    archive = tmp_path / "storage.tar"
    ok(
        "tar",
        "--create",
        f"--file={archive}",
        f"--directory={settings.ARTIFACT_ROOT.parent}",
        settings.ARTIFACT_ROOT.name,
        settings.DOCUMENTS_ROOT.name,
    )
    # 2. Restore into a fresh database and a new place.
    ok("createdb", restored_db, env=pg_env)
    try:
        ok("pg_restore", "--no-owner", f"--dbname={restored_db}", str(dump), env=pg_env)
        restored = tmp_path / "restored"
        restored.mkdir()
        ok("tar", "--extract", f"--file={archive}", f"--directory={restored}")
        artifacts, documents = restored / "artifacts", restored / "documents"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.test_settings",
            "DATABASE_URL": database_url(restored_db),
            "STEWARD_ARTIFACT_ROOT": str(artifacts),
            "STEWARD_DOCUMENTS_ROOT": str(documents),
        }

        def manage(command: str) -> subprocess.CompletedProcess:
            return run(sys.executable, "manage.py", command, env=env)

        # 3. Verify the restored copy.
        chain = manage("verify_audit_chain")
        assert chain.returncode == 0, chain.stderr
        assert f"audit chain OK: {events} events" in chain.stdout
        files = manage("verify_artifacts")
        assert files.returncode == 0, files.stderr
        assert "stored files OK: 2 artifacts" in files.stdout
        assert "1 documents" in files.stdout

        # 4. Tamper with the copy: one byte of an artifact, one audit event's content.
        weights = artifact_file(artifacts, world["weights"])
        data = bytearray(weights.read_bytes())
        data[1000] ^= 0xFF
        weights.write_bytes(bytes(data))
        ok(
            "psql",
            "--quiet",
            f"--dbname={restored_db}",
            "--command=SET session_replication_role = replica; "
            "UPDATE core_auditevent SET data = jsonb_set(data, '{motivation}', '\"forged\"') "
            "WHERE sequence = 2",
            env=pg_env,
        )
        chain = manage("verify_audit_chain")
        assert chain.returncode == 1
        assert "BROKEN at sequence 2" in chain.stderr and "altered" in chain.stderr
        files = manage("verify_artifacts")
        assert files.returncode == 1
        assert f"({world['weights']}): sha256 mismatch" in files.stderr
        assert "1 of 3 do not match" in files.stderr
        # The source was not touched by any of it.
        assert AuditEvent.objects.count() == events
    finally:
        ok("dropdb", "--if-exists", "--force", restored_db, env=pg_env)


def database_url(name: str) -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


# --- verify_artifacts on any database ---------------------------------------------------------


@pytest.mark.django_db
def test_verify_artifacts_names_a_missing_and_an_altered_file(contributor, settings, capsys):
    client = APIClient()
    client.force_login(contributor)
    kept = upload(client, "a.bin", b"a" * 5000)
    lost = upload(client, "b.bin", b"b" * 3000)
    altered = upload(client, "c.bin", b"c" * 1000)

    call_command("verify_artifacts")
    assert "stored files OK: 3 artifacts (9000 bytes), 0 documents" in capsys.readouterr().out

    artifact_file(settings.ARTIFACT_ROOT, lost).unlink()
    artifact_file(settings.ARTIFACT_ROOT, altered).write_bytes(b"c" * 999 + b"d")
    with pytest.raises(CommandError, match="2 of 3 do not match") as raised:
        call_command("verify_artifacts")
    assert raised.value.returncode == 1
    listed = capsys.readouterr().err
    assert f"({lost}): missing" in listed
    assert f"({altered}): sha256 mismatch" in listed
    assert kept not in listed
