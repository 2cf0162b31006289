"""The everyday MLflow notebook, the real client against a live Steward: an MLflow run is a
Steward run (same id) with its params, metrics, code, inputs and artifacts; the logged model
comes back byte for byte and predicts the same."""

from __future__ import annotations

import hashlib

import mlflow
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from core.models import AuditEvent
from integrations.models import MlflowArtifactFile, MlflowLoggedModel, MlflowMetric, MlflowRun
from registry.choices import DatasetRole, RunKind, RunStatus
from registry.models import Artifact, Run

pytestmark = pytest.mark.django_db(transaction=True)


def frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    data = pd.DataFrame(rng.normal(size=(60, 2)), columns=["tenure", "calls"])
    data["churned"] = (data["tenure"] > 0).astype(int)
    return data


def test_it_records_the_everyday_notebook(mlflow_as, contributor, tmp_path, monkeypatch):
    mlflow_as(contributor)
    monkeypatch.setenv("MLFLOW_GIT_COMMIT", "")  # the source tags come from the run's tags
    experiment_id = mlflow.set_experiment("churn-notebook").experiment_id
    data = frame()
    commit = "0123456789abcdef0123456789abcdef01234567"
    notes = tmp_path / "notes.txt"
    notes.write_text("baseline run\n")
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "a.csv").write_text("x,y\n1,2\n")
    with mlflow.start_run(
        run_name="baseline",
        tags={
            "mlflow.source.git.commit": commit,
            "mlflow.source.git.repoURL": "https://git.example/churn.git",
            "team.note": "first try",
        },
    ) as active:
        run_id = active.info.run_id
        mlflow.log_param("C", 0.5)
        mlflow.log_params({"solver": "lbfgs", "max_iter": 100})
        for step, loss in enumerate([0.9, 0.6, 0.4]):
            mlflow.log_metric("loss", loss, step=step)
        mlflow.log_metrics({"auc": 0.81, "accuracy": 0.77})
        mlflow.set_tag("stage", "exploration")
        dataset = mlflow.data.from_pandas(
            data, source="s3://lake/churn/train.parquet", name="churn-train", targets="churned"
        )
        mlflow.log_input(dataset, context="training")
        mlflow.log_artifact(str(notes))
        mlflow.log_artifacts(str(tmp_path / "plots"), artifact_path="plots")
        model = LogisticRegression(C=0.5).fit(data[["tenure", "calls"]], data["churned"])
        info = mlflow.sklearn.log_model(model, name="model")

    run = Run.objects.get(uuid=run_id)
    assert run.kind == RunKind.TRAINING and run.team.slug == "credit-risk"
    assert run.status == RunStatus.COMPLETED and run.ended_at is not None
    assert run.name == "baseline" and run.created_by == contributor
    assert run.params["C"] == "0.5" and run.params["solver"] == "lbfgs"
    assert run.metrics["loss"] == 0.4 and run.metrics["auc"] == 0.81
    assert run.code_commit == commit
    assert run.code_repository == "https://git.example/churn.git"
    assert run.code_path  # mlflow.source.name: the file the client ran
    assert MlflowMetric.objects.filter(run=run, key="loss", model_id="").count() == 3
    mlflow_run = MlflowRun.objects.get(run=run)
    assert str(mlflow_run.experiment_id) == experiment_id
    assert mlflow_run.tags["stage"] == "exploration" and mlflow_run.tags["team.note"] == "first try"

    [link] = run.input_links.select_related("dataset_version__dataset")
    version = link.dataset_version
    assert link.role == DatasetRole.TRAIN
    assert version.dataset.name == "churn-train" and version.dataset.owner_team == run.team
    assert version.uri == "s3://lake/churn/train.parquet"
    expected = f"mlflow-dataset:{dataset.digest}:{dataset.source.to_json()}"
    assert version.content_hash == hashlib.sha256(expected.encode()).hexdigest()
    assert version.profile["mlflow_dataset"]["digest"] == dataset.digest

    root = f"{experiment_id}/{run_id}/artifacts"
    files = dict(MlflowArtifactFile.objects.filter(root=root).values_list("path", "artifact"))
    assert set(files) == {"notes.txt", "plots/a.csv"}
    stored = Artifact.objects.get(pk=files["notes.txt"])
    assert stored.sha256 == hashlib.sha256(b"baseline run\n").hexdigest()
    assert stored.uploaded_by == contributor

    logged = MlflowLoggedModel.objects.get(model_id=info.model_id)
    assert logged.run == run and logged.status == "LOGGED_MODEL_READY"
    model_files = MlflowArtifactFile.objects.filter(root__contains=info.model_id)
    assert {"MLmodel", "model.skops"} <= set(model_files.values_list("path", flat=True))

    # What the chain says: the run's registration with its code, its params and tags, its
    # input, its end with the latest metrics; never one event per metric step.
    actions = list(
        AuditEvent.objects.filter(subject_id=str(run.pk), subject_type__icontains="run")
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions[0] == "run.register"
    assert "run.inputs_add" in actions and "run.provenance_add" in actions
    assert actions.count("run.update") == 1
    end = AuditEvent.objects.get(subject_id=str(run.pk), action="run.update")
    assert end.data["changes"]["metrics"]["to"]["loss"] == 0.4
    assert len(actions) < 3 + 8  # fewer than one per metric point

    # The model comes back byte for byte and predicts the same.
    client = mlflow.MlflowClient()
    assert client.get_run(run_id).data.params["solver"] == "lbfgs"
    assert [m.value for m in client.get_metric_history(run_id, "loss")] == [0.9, 0.6, 0.4]
    local = mlflow.artifacts.download_artifacts(
        f"runs:/{run_id}/model", dst_path=str(tmp_path / "d")
    )
    with open(f"{local}/model.skops", "rb") as handle:
        pickled = handle.read()
    stored_pickle = model_files.get(path="model.skops").artifact
    assert hashlib.sha256(pickled).hexdigest() == stored_pickle.sha256
    for uri in (f"runs:/{run_id}/model", f"models:/{info.model_id}"):
        loaded = mlflow.pyfunc.load_model(uri)
        assert list(loaded.predict(data[["tenure", "calls"]])) == list(
            model.predict(data[["tenure", "calls"]])
        )
    listed = {f.path for f in client.list_artifacts(run_id)}
    assert {"notes.txt", "plots"} <= listed
    assert [f.path for f in client.list_artifacts(run_id, "plots")] == ["plots/a.csv"]
    found = mlflow.search_runs([experiment_id], filter_string="params.solver = 'lbfgs'")
    assert list(found["run_id"]) == [run_id]
    assert mlflow.search_runs([experiment_id], filter_string="metrics.auc > 0.9").empty
