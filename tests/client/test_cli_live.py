"""The ``steward`` command, run as a process against a live Steward: sign-in that stores a token
only its owner can read, reads as tables or JSON, registration, and every error said in
Steward's words with a non-zero exit and no traceback."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from accounts.services import token_create
from monitoring.models import Prediction
from monitoring.tests.factories import DeploymentFactory, ProductionVersionFactory
from monitoring.tests.test_monitoring_services import INPUT_SCHEMA, OUTPUT_SCHEMA, _records
from registry.models import ModelVersion, RegisteredModel
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

STEWARD = shutil.which("steward", path=str(Path(sys.executable).parent))


def steward(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    command = [STEWARD] if STEWARD else [sys.executable, "-m", "steward_client.cli"]
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def assert_refused(done: subprocess.CompletedProcess, *words: str) -> None:
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.startswith("steward: error: ")
    for word in words:
        assert word in done.stderr, done.stderr


def test_the_console_command_is_installed():
    assert STEWARD, "pip install -e ./client puts `steward` beside the interpreter"


def test_login_with_a_password_stores_a_token_only_the_owner_can_read(
    live_server, contributor, tmp_path, monkeypatch
):
    config = tmp_path / "config"
    for name in ("STEWARD_URL", "STEWARD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    env = {"STEWARD_CONFIG_DIR": str(config), "STEWARD_PASSWORD": PASSWORD}

    done = steward("login", "--url", live_server.url, "--username", "carol", env=env)

    assert done.returncode == 0, done.stderr
    assert "as carol" in done.stdout
    stored = config / "config.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.stat().st_mode) == 0o700
    values = json.loads(stored.read_text())
    assert values["url"] == live_server.url and values["token"].startswith("stw_")
    assert contributor.api_tokens.get().name.startswith("steward-cli@")

    whoami = steward("whoami", "--json", env={"STEWARD_CONFIG_DIR": str(config)})
    assert whoami.returncode == 0, whoami.stderr
    assert json.loads(whoami.stdout)["username"] == "carol"


def test_a_wrong_password_is_said_and_nothing_is_stored(live_server, contributor, tmp_path):
    config = tmp_path / "config"
    env = {"STEWARD_CONFIG_DIR": str(config), "STEWARD_PASSWORD": "wrong"}
    done = steward("login", "--url", live_server.url, "--username", "carol", env=env)
    assert_refused(done, "HTTP 401")
    assert not (config / "config.json").exists()


def test_reads_print_tables_or_json(steward_env, model):
    listed = steward("models", "list")
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()[:2]
    assert header.split()[:3] == ["NAME", "OWNER_TEAM", "RISK_TIER"]
    assert row.split()[:2] == ["credit-scoring", "credit-risk"]
    as_json = json.loads(steward("models", "list", "--json").stdout)
    assert [m["name"] for m in as_json] == ["credit-scoring"]


def test_register_show_status_submit_and_lineage(steward_env, model, model_file, train_csv):
    done = steward(
        "versions", "register", "credit-scoring",
        "--artifact", str(model_file),
        "--dataset", f"train={train_csv}",
        "--metric", "auc=0.9",
        "--param", "depth=4",
        "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    version = json.loads(done.stdout)
    assert version["version"] == 1 and version["metrics"] == {"auc": 0.9}
    assert version["params"]["depth"] == 4

    shown = steward("versions", "show", "credit-scoring", "1")
    assert "credit-scoring v1 (draft)" in shown.stdout
    status = steward("versions", "status", "credit-scoring", "1")
    assert "state: draft" in status.stdout and "whose turn: the developers" in status.stdout
    submitted = steward("submit", "credit-scoring", "1", "-m", "Ready for validation.")
    assert "draft -> submitted" in submitted.stdout, submitted.stderr
    lineage = steward("lineage", "credit-scoring", "1", "--direction", "upstream")
    assert "loans-train" in lineage.stdout
    assert ModelVersion.objects.get().status == "submitted"


def test_bad_input_is_refused_with_stewards_message_and_field(steward_env, model_file):
    done = steward(
        "versions", "register", "fraud", "--artifact", str(model_file), "--team", "no-such-team",
        "--no-capture",
    )  # fmt: skip
    assert_refused(done, "owner_team", "HTTP 400")
    assert not RegisteredModel.objects.exists()


def test_a_workflow_step_not_allowed_now_is_a_409(steward_env, model, model_file):
    assert (
        steward("versions", "register", "credit-scoring", "--artifact", str(model_file)).returncode
        == 0
    )
    assert (
        steward("submit", "credit-scoring", "1", "-m", "Ready: metrics above the bar.").returncode
        == 0
    )
    again = steward("submit", "credit-scoring", "1", "-m", "Ready again: nothing changed.")
    assert_refused(again, "HTTP 409")


def test_what_another_team_may_not_see_is_not_found(steward_env, model, otto_token):
    done = steward("versions", "show", "credit-scoring", "1", env={"STEWARD_TOKEN": otto_token})
    assert_refused(done, "HTTP 404")


def test_a_bad_token_and_a_missing_file_and_no_server(steward_env, tmp_path):
    assert_refused(steward("whoami", env={"STEWARD_TOKEN": "stw_nope"}), "HTTP 401")
    assert_refused(
        steward("versions", "register", "m", "--artifact", str(tmp_path / "missing.pkl")),
        "missing.pkl",
    )
    unreachable = steward(
        "whoami", env={"STEWARD_URL": "http://127.0.0.1:9", "STEWARD_MAX_RETRIES": "1"}
    )
    assert_refused(unreachable, "Cannot reach Steward", "connection refused")


def test_a_mistyped_command_line_exits_2(steward_env):
    done = steward("versions", "show", "credit-scoring", "one")
    assert done.returncode == 2
    assert "invalid int value" in done.stderr and "Traceback" not in done.stderr


def test_predictions_are_logged_from_a_file_with_per_record_errors(
    live_server, team, gateway, tmp_path, monkeypatch
):
    from tests.factories import RegisteredModelFactory

    version = ProductionVersionFactory(
        registered_model=RegisteredModelFactory(owner_team=team, name="credit-scoring"),
        input_schema=INPUT_SCHEMA,
        output_schema=OUTPUT_SCHEMA,
    )
    DeploymentFactory(model_version=version, name="credit-prod")
    _, secret = token_create(actor=gateway, name="gateway", scopes=["read", "write"])
    records = json.loads(json.dumps(_records(5, np.random.default_rng(1)), default=str))
    records[2]["inputs"]["income"] = "lots"
    file = tmp_path / "predictions.jsonl"
    file.write_text("".join(json.dumps(r) + "\n" for r in records))
    env = {
        "STEWARD_URL": live_server.url,
        "STEWARD_TOKEN": secret,
        "STEWARD_CONFIG_DIR": str(tmp_path / "config"),
    }

    done = steward("predictions", "log", "credit-prod", str(file), "--batch-size", "2", env=env)

    assert done.returncode == 1  # a record was refused: said, and the exit code tells
    assert "4 accepted, 0 duplicates, 1 rejected in 3 batch(es)" in done.stdout
    assert "record 2 (r-2)" in done.stdout
    assert "1 record(s) were refused" in done.stderr
    assert Prediction.objects.count() == 4

    again = steward("predictions", "log", "credit-prod", str(file), "--json", env=env)
    assert json.loads(again.stdout)["duplicates"] == 4
    assert Prediction.objects.count() == 4

    truth = tmp_path / "truth.csv"
    truth.write_text("request_id,ground_truth\nr-0,1\nr-1,0\nnot-logged,1\n")
    feedback = steward("feedback", "log", "credit-prod", str(truth), env=env)
    assert feedback.returncode == 0, feedback.stderr
    assert "2 updated, 0 unchanged, 0 rejected" in feedback.stdout
    assert "unknown request ids: not-logged" in feedback.stdout
    assert Prediction.objects.filter(ground_truth__isnull=False).count() == 2


def test_docs_are_generated_and_downloaded(live_server, contributor, model, model_file, tmp_path):
    from django.core.management import call_command

    call_command("install_doc_templates", verbosity=0)  # a transactional test starts empty
    _, secret = token_create(actor=contributor, name="docs", scopes=["read", "write", "annotate"])
    env = {
        "STEWARD_URL": live_server.url,
        "STEWARD_TOKEN": secret,
        "STEWARD_CONFIG_DIR": str(tmp_path / "config"),
    }
    assert steward("versions", "register", "credit-scoring", "--artifact", str(model_file),
                   "--no-capture", env=env).returncode == 0  # fmt: skip

    generated = steward("docs", "generate", "credit-scoring", "1", "--wait", env=env)
    assert generated.returncode == 0, generated.stderr
    assert "(model-card): done" in generated.stdout
    target = tmp_path / "card.md"
    downloaded = steward(
        "docs", "download", "credit-scoring", "1", "--format", "md", "-o", str(target), env=env
    )
    assert downloaded.returncode == 0, downloaded.stderr
    assert "credit-scoring" in target.read_text()

    unknown = steward("docs", "download", "credit-scoring", "1", "--template", "sr-11-7", env=env)
    assert_refused(unknown, "No finished 'sr-11-7' document")
