"""The everyday MLflow notebook, unchanged, pointed at Steward: what a data scientist does, what
Steward records, and the governance the notebook cannot skip. The real ``mlflow`` client talks
HTTP to a live Steward throughout; the reviewers act through Steward's own services."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException
from sklearn.linear_model import LogisticRegression

from registry.choices import VersionStatus
from registry.models import ModelVersion, RegisteredModel, Run
from tests.factories import version_decide

pytestmark = pytest.mark.django_db(transaction=True)

WHY = "Reviewed the evidence: metrics, data and code are as described."
COLUMNS = ["tenure", "charges", "calls"]


def _training_frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(rng.normal(size=(120, 3)), columns=COLUMNS)
    frame["churned"] = (frame["tenure"] + 0.5 * frame["calls"] > 0).astype(int)
    return frame


def _notebook(tmp_path) -> tuple[str, LogisticRegression, pd.DataFrame]:
    """The notebook as a data scientist writes it for MLflow."""
    frame = _training_frame()
    mlflow.set_experiment("churn")
    with mlflow.start_run(run_name="baseline") as run:
        mlflow.log_params({"C": 1.0, "max_iter": 200})
        mlflow.set_tag("purpose", "retention offers")
        dataset = mlflow.data.from_pandas(
            frame, source="s3://warehouse/churn/2026-11.parquet", name="churn-customers"
        )
        mlflow.log_input(dataset, context="training")
        model = LogisticRegression(C=1.0, max_iter=200).fit(frame[COLUMNS], frame["churned"])
        for step, value in enumerate((0.61, 0.74, 0.81)):
            mlflow.log_metric("auc", value, step=step)
        notes = tmp_path / "notes.txt"
        notes.write_text("Features chosen with the retention team.\n")
        mlflow.log_artifact(str(notes))
        mlflow.sklearn.log_model(model, name="model", registered_model_name="churn")
    return run.info.run_id, model, frame


def _approve(version: ModelVersion, contributor, validator, manager) -> None:
    for actor, action in (
        (contributor, "submit"),
        (validator, "claim"),
        (validator, "sign_off"),
        (manager, "approve"),
    ):
        version_decide(actor=actor, version=version, action=action, motivation=WHY)


def test_the_notebook_logs_registers_and_loads_through_steward(
    mlflow_as, contributor, validator, manager, tmp_path
):
    client = mlflow_as(contributor)

    run_id, model, frame = _notebook(tmp_path)

    # What Steward recorded: the run is a Steward run with the same id, its params, metrics
    # and inputs; the version is a draft of Credit Risk's model with the run as provenance.
    run = Run.objects.get(uuid=run_id)
    assert run.team.slug == "credit-risk"
    assert {k: str(v) for k, v in run.params.items()} == {"C": "1.0", "max_iter": "200"}
    assert run.metrics["auc"] == pytest.approx(0.81)
    assert run.input_links.filter(dataset_version__uri__contains="churn/2026-11").exists()
    churn = RegisteredModel.objects.get(name="churn")
    assert churn.owner_team.slug == "credit-risk"
    version = ModelVersion.objects.get(registered_model=churn, version=1)
    assert version.status == VersionStatus.DRAFT
    assert version.run_id == run.pk
    assert version.artifact_sha256 and len(version.artifact_sha256) == 64
    # The reviewers' evidence (and the policy's metric checks) travel with the version: the
    # metrics logged before registration, although the run had not ended yet.
    assert version.metrics["auc"] == pytest.approx(0.81)
    assert {k: str(v) for k, v in version.params.items()} == {"C": "1.0", "max_iter": "200"}
    assert client.get_model_version("churn", "1").run_id == run_id

    # The files come back from Steward, and predict as the trained model does.
    loaded = mlflow.pyfunc.load_model("models:/churn/1")
    expected = model.predict(frame[COLUMNS])
    assert list(loaded.predict(frame[COLUMNS])) == list(expected)
    history = client.get_metric_history(run_id, "auc")
    assert [m.value for m in sorted(history, key=lambda m: m.step)] == [0.61, 0.74, 0.81]

    # A draft cannot be made champion, whoever asks.
    with pytest.raises(MlflowException) as refused:
        client.set_registered_model_alias("churn", "champion", "1")
    assert refused.value.error_code == "PERMISSION_DENIED" or "approved" in str(refused.value)
    assert not churn.aliases.exists()

    # After Steward's review approves it, the manager points champion at it, and the serving
    # code loads the champion.
    _approve(version, contributor, validator, manager)
    manager_client = mlflow_as(manager, scopes=("read", "write", "deploy"))
    manager_client.set_registered_model_alias("churn", "champion", "1")
    assert manager_client.get_model_version_by_alias("churn", "champion").version == "1"
    champion = mlflow.pyfunc.load_model("models:/churn@champion")
    assert list(champion.predict(frame[COLUMNS])) == list(expected)


def test_another_teams_notebook_cannot_see_or_add_to_the_model(
    mlflow_as, contributor, outsider, tmp_path
):
    mlflow_as(contributor)
    _notebook(tmp_path)

    client = mlflow_as(outsider)
    with pytest.raises(MlflowException) as hidden:
        client.get_registered_model("churn")
    assert hidden.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert [m.name for m in client.search_registered_models()] == []
    with pytest.raises(MlflowException) as refused:
        client.create_model_version("churn", source="s3://elsewhere/model", run_id=None)
    assert refused.value.error_code in ("RESOURCE_DOES_NOT_EXIST", "PERMISSION_DENIED")
    assert ModelVersion.objects.filter(registered_model__name="churn").count() == 1


def test_the_version_page_says_the_files_are_held(mlflow_as, contributor, tmp_path, client):
    """A reviewer reads on the version page that Steward holds the files MLflow logged, not
    "external location"."""
    mlflow_as(contributor)
    _notebook(tmp_path)
    client.force_login(contributor)

    page = client.get("/models/churn/versions/1/").content.decode()

    assert "no, external location" not in page
    assert "logged through MLflow under" in page
