"""An insider with the MLflow client tries to change what a registered version is made of.

A version's files are what reviewers judged and what serving loads. Once a version names them,
they must not change, whatever the client does to the run they were logged under (reopening it
included) — the download keeps answering the bytes that were registered."""

from __future__ import annotations

import hashlib

import mlflow
import pytest
import requests
from mlflow.exceptions import MlflowException

pytestmark = pytest.mark.django_db(transaction=True)

# The artifact repository raises requests' error for a refused upload; the REST store MLflow's.
REFUSED = (MlflowException, requests.HTTPError)
GOOD = b"weights judged by the validator\n" * 64
EVIL = b"weights nobody reviewed\n" * 64


def _registered_from_run_files(client, tmp_path) -> str:
    weights = tmp_path / "weights.bin"
    weights.write_bytes(GOOD)
    mlflow.set_experiment("scoring")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(weights), artifact_path="model")
    client.create_registered_model("scoring")
    client.create_model_version("scoring", f"runs:/{run.info.run_id}/model", run.info.run_id)
    return run.info.run_id


def _downloaded(tmp_path) -> bytes:
    target = tmp_path / "download"
    target.mkdir(exist_ok=True)
    local = mlflow.artifacts.download_artifacts("models:/scoring/1", dst_path=str(target))
    return (tmp_path / "download" / "weights.bin").read_bytes() if local else b""


def test_reopening_the_run_does_not_reopen_a_registered_versions_files(
    mlflow_as, contributor, tmp_path
):
    client = mlflow_as(contributor)
    run_id = _registered_from_run_files(client, tmp_path)
    evil = tmp_path / "evil" / "weights.bin"
    evil.parent.mkdir()
    evil.write_bytes(EVIL)

    client.set_terminated(run_id, "FINISHED")
    client.update_run(run_id, status="RUNNING")  # the run itself may be reopened...
    with pytest.raises(REFUSED) as overwrite:  # ...but not the files a version was made of
        client.log_artifact(run_id, str(evil), artifact_path="model")
    assert "registered" in str(overwrite.value)
    extra = tmp_path / "extra.py"
    extra.write_text("import os\n")
    with pytest.raises(REFUSED):
        client.log_artifact(run_id, str(extra), artifact_path="model")
    with pytest.raises(REFUSED):
        client._tracking_client._get_artifact_repo(run_id).delete_artifacts("model")

    assert hashlib.sha256(_downloaded(tmp_path)).digest() == hashlib.sha256(GOOD).digest()


def test_files_beside_the_version_stay_writable_while_the_run_runs(
    mlflow_as, contributor, tmp_path
):
    """The freeze is the version's folder, not the whole run: a running notebook keeps logging."""
    client = mlflow_as(contributor)
    run_id = _registered_from_run_files(client, tmp_path)
    notes = tmp_path / "notes.txt"
    notes.write_text("more plots later\n")

    client.log_artifact(run_id, str(notes), artifact_path="reports")

    assert [f.path for f in client.list_artifacts(run_id, "reports")] == ["reports/notes.txt"]
