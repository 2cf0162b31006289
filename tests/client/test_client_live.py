"""The Python client against a live Steward over real HTTP: provenance captured from a real git
repository, data hashed, an artifact uploaded once, runs, retries through a flaky proxy, the
Idempotency-Key that keeps a retried create from making a second row, and refusals."""

from __future__ import annotations

import hashlib

import pytest
from steward_client import NotFound, PermissionDenied, Steward
from steward_client.data import directory_manifest, manifest_sha256

from core.models import IdempotencyRecord
from registry.models import Artifact, DatasetVersion, ModelVersion, Run
from tests.client.conftest import git
from tests.client.proxy import FlakyProxy

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_registers_a_version_with_code_environment_data_and_artifact(
    steward_env, model, repo, train_csv, test_csv, model_file
):
    (repo / "train.py").write_text("print('training, tuned')\n")  # uncommitted: dirty
    steward = Steward()

    version = steward.register_version(
        model="credit-scoring",
        artifact=model_file,
        datasets={"train": train_csv, "test": test_csv},
        metrics={"auc": 0.91},
        params={"max_depth": 4},
        description="Gradient boosting on the 2026 loans.",
        framework="sklearn",
        code_dir=repo,
    )

    row = ModelVersion.objects.get(registered_model__name="credit-scoring", version=1)
    assert version["version"] == 1 and version.number == 1
    # Code: the remote without its token, the commit, branch and dirty state.
    assert row.code_repository == "https://git.example.com/risk/credit.git"
    assert "s3cr3t" not in str(version)
    assert row.code_commit == git(repo, "rev-parse", "HEAD")
    assert row.params["steward.git.branch"] == "main"
    assert row.params["steward.git.dirty"] is True
    assert len(row.params["steward.git.diff_sha256"]) == 64
    assert row.params["max_depth"] == 4
    # Environment: this interpreter and its distributions.
    assert row.python_version.count(".") == 2
    assert "requests" in row.packages and "django" in row.packages
    # Data: hashed, counted (a quoted newline is not a row) and typed.
    train = DatasetVersion.objects.get(dataset__name="loans-train")
    assert train.content_hash == hashlib.sha256(train_csv.read_bytes()).hexdigest()
    assert train.row_count == 3
    assert train.size_bytes == train_csv.stat().st_size
    assert train.schema["columns"][:3] == [
        {"name": "income", "type": "float64"},
        {"name": "age", "type": "int64"},
        {"name": "segment", "type": "string"},
    ]
    assert {(u["dataset"], u["role"]) for u in version["datasets"]} == {
        ("loans-train", "train"),
        ("loans-test", "test"),
    }
    # Artifact: uploaded, stored under its hash, linked.
    digest = hashlib.sha256(model_file.read_bytes()).hexdigest()
    assert row.artifact_sha256 == digest
    assert version["artifact_stored"] is True


def test_the_same_data_and_artifact_are_not_sent_or_recorded_twice(
    steward_env, model, train_csv, model_file
):
    steward = Steward()
    first = steward.register_version("credit-scoring", model_file, datasets={"train": train_csv})
    uploads = [a for a in steward.http.attempts if a[0] == "POST" and "artifacts/" in a[1]]
    assert len(uploads) == 1

    second = steward.register_version("credit-scoring", model_file, datasets={"train": train_csv})

    uploads = [a for a in steward.http.attempts if a[0] == "POST" and "artifacts/" in a[1]]
    assert len(uploads) == 1, "the second registration found the artifact by its hash"
    assert Artifact.objects.count() == 1
    assert DatasetVersion.objects.count() == 1
    assert first["datasets"] == second["datasets"]
    assert (first["version"], second["version"]) == (1, 2)


def test_a_directory_is_one_dataset_version_by_its_manifest(steward_env, model, tmp_path):
    parts = tmp_path / "loans-2026"
    (parts / "month=02").mkdir(parents=True)
    (parts / "month=02" / "part-1.csv").write_text("income,age\n1,2\n3,4\n")
    (parts / "part-0.csv").write_text("income,age\n5,6\n")

    found = Steward().dataset_version(parts, team="credit-risk")

    row = DatasetVersion.objects.get()
    assert row.content_hash == manifest_sha256(directory_manifest(parts)) == found["content_hash"]
    assert row.row_count == 3
    assert row.schema["files"] == 2
    assert [c["name"] for c in row.schema["columns"]] == ["income", "age"]


def test_a_run_records_inputs_params_metrics_and_the_version_it_produced(
    steward_env, model, train_csv, model_file
):
    steward = Steward()
    with steward.run("nightly", kind="training") as run:
        run.log_input(train_csv, role="train")
        run.log_params(learning_rate=0.1)
        run.log_metric("auc", 0.93)
        version = run.register_version("credit-scoring", artifact=model_file)
        run.log_metric("loss", 0.2)

    row = Run.objects.get()
    assert row.status == "completed"
    assert row.name == "nightly" and row.team.slug == "credit-risk"
    assert row.params["learning_rate"] == 0.1
    assert row.metrics == {"auc": 0.93, "loss": 0.2}
    assert [link.dataset_version.dataset.name for link in row.input_links.all()] == ["loans-train"]
    assert row.ended_at is not None and row.started_at < row.ended_at
    produced = ModelVersion.objects.get()
    assert produced.run_id == row.pk
    assert version["run"] == str(row.uuid)
    assert [link.role for link in produced.dataset_links.all()] == ["train"]


def test_a_run_whose_block_raises_is_recorded_as_failed_and_the_error_goes_on(
    steward_env, model, train_csv
):
    steward = Steward()
    with (
        pytest.raises(RuntimeError, match="loss diverged"),
        steward.run("nightly", kind="training", team="credit-risk") as run,
    ):
        run.log_input(train_csv)
        run.log_metric("loss", float("1e9"))
        raise RuntimeError("loss diverged")

    row = Run.objects.get()
    assert row.status == "failed"
    assert "RuntimeError: loss diverged" in row.notes
    assert row.metrics == {"loss": 1e9}
    assert row.input_links.count() == 1


def test_it_retries_a_503_and_honours_retry_after(steward_env, model):
    with FlakyProxy(steward_env) as proxy:
        proxy.faults.unavailable = 2
        proxy.faults.retry_after = "0"
        waits: list[float] = []
        steward = Steward(url=proxy.url)
        steward.http.sleep = waits.append

        models = steward.models()

    assert [m["name"] for m in models] == ["credit-scoring"]
    assert [s.status for s in proxy.faults.seen] == [503, 503, 200]
    assert waits == [0.0, 0.0]  # Retry-After: 0 was taken, not the backoff


def test_a_create_whose_answer_was_lost_is_retried_and_answered_once(
    steward_env, model, model_file
):
    """The proxy forwards the registration and drops the answer. The client sends it again
    with the same Idempotency-Key; Steward answers the first answer: one version, not two."""
    with FlakyProxy(steward_env) as proxy:
        steward = Steward(url=proxy.url)
        steward.upload_artifact(model_file)
        proxy.faults.drop = 1
        version = steward.register_version("credit-scoring", model_file, capture=False)

    posts = [s for s in proxy.faults.seen if s.method == "POST" and "/versions/" in s.path]
    assert len(posts) == 2
    assert posts[0].status is None and posts[1].status == 201 and posts[1].replayed
    assert posts[0].headers["Idempotency-Key"] == posts[1].headers["Idempotency-Key"]
    assert ModelVersion.objects.count() == 1
    assert version["version"] == 1
    assert IdempotencyRecord.objects.filter(status_code=201).exists()


def test_another_team_sees_nothing_and_may_change_nothing(
    steward_env, model, otto_token, model_file, contributor
):
    Steward().register_version("credit-scoring", model_file, capture=False)
    otto = Steward(token=otto_token)

    with pytest.raises(NotFound) as missing:
        otto.version("credit-scoring", 1)
    assert missing.value.status == 404
    with pytest.raises(PermissionDenied, match="may not change"):
        # The model is invisible to him, so the client tries to register it for Credit Risk.
        otto.register_version("credit-scoring", model_file, capture=False, team="credit-risk")
    with pytest.raises(PermissionDenied) as refused:
        otto.dataset_version(model_file, team="credit-risk")
    assert refused.value.status == 403
    assert ModelVersion.objects.count() == 1
    assert [m["name"] for m in otto.models()] == []


def test_governance_status_submit_and_lineage(steward_env, model, train_csv, model_file):
    steward = Steward()
    steward.register_version("credit-scoring", model_file, datasets={"train": train_csv})

    status = steward.status("credit-scoring", 1)
    assert status.state == "draft"
    assert "developers" in status.whose_turn
    assert "draft" in status._repr_html_()

    decision = steward.submit("credit-scoring", 1, "Ready: metrics above the bar.")
    assert (decision["from_state"], decision["to_state"]) == ("draft", "submitted")
    assert steward.status("credit-scoring", 1).state == "submitted"

    lineage = steward.lineage("credit-scoring", 1, direction="upstream")
    kinds = {n["kind"] for n in lineage["nodes"]}
    assert {"model_version", "dataset_version"} <= kinds
    assert "<svg" in lineage._repr_html_() and "loans-train" in lineage.svg()
    assert any("loans-train" in line for line in lineage.lines())
    assert "<table>" in steward.version("credit-scoring", 1)._repr_html_()
