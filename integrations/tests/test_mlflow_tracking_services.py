"""The tracking services underneath the routes: MLflow datasets as Steward dataset versions,
logged models and their files, and the registry's run_provenance_add."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pytest

from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.models import AuditEvent
from integrations.mlflow.artifacts.selectors import artifact_target_resolve
from integrations.mlflow.artifacts.services import artifact_file_put
from integrations.mlflow.artifacts.streaming import StreamedBody
from integrations.mlflow.tracking.datasets import LoggedDataset
from integrations.mlflow.tracking.logged_models import (
    logged_model_create,
    logged_model_delete,
    logged_model_finalize,
    logged_model_update,
)
from integrations.mlflow.tracking.selectors import logged_model_get, metrics_latest
from integrations.mlflow.tracking.services import (
    MetricPoint,
    experiment_create,
    mlflow_run_create,
    mlflow_run_inputs_log,
    mlflow_run_log,
)
from integrations.models.mlflow import LoggedModelStatus
from registry.choices import DatasetRole
from registry.models import Dataset, DatasetVersion
from registry.services import dataset_create
from registry.services.artifacts import artifact_tmp_dir
from registry.services.runs import run_provenance_add

pytestmark = pytest.mark.django_db


def logged(name="churn", digest="d1", source='{"uri": "s3://lake/churn.csv"}', context=""):
    return LoggedDataset(
        name=name,
        digest=digest,
        source_type="s3",
        source=source,
        schema='{"mlflow_colspec": [{"name": "tenure", "type": "double"}]}',
        profile='{"num_rows": 60}',
        context=context,
    )


@pytest.fixture
def carols(contributor):
    experiment = experiment_create(actor=contributor, name="exp")
    return experiment, mlflow_run_create(actor=contributor, experiment=experiment)


def put(actor, path: str, content: bytes):
    handle = tempfile.NamedTemporaryFile(dir=artifact_tmp_dir(), delete=False)  # noqa: SIM115
    handle.write(content)
    handle.close()
    body = StreamedBody(Path(handle.name), hashlib.sha256(content).hexdigest(), len(content))
    return artifact_file_put(actor=actor, target=artifact_target_resolve(actor, path), body=body)


def test_it_keys_a_logged_dataset_by_source_and_digest(contributor, carols):
    _, mlflow_run = carols
    mlflow_run_inputs_log(
        actor=contributor, mlflow_run=mlflow_run, datasets=[logged(context="train")]
    )
    mlflow_run_inputs_log(
        actor=contributor, mlflow_run=mlflow_run, datasets=[logged(context="train")]
    )
    other = mlflow_run_create(actor=contributor, experiment=mlflow_run.experiment)
    mlflow_run_inputs_log(actor=contributor, mlflow_run=other, datasets=[logged(context="eval")])
    [version] = DatasetVersion.objects.all()  # the same (source, digest): one version
    expected = 'mlflow-dataset:d1:{"uri": "s3://lake/churn.csv"}'
    assert version.content_hash == hashlib.sha256(expected.encode()).hexdigest()
    assert version.uri == "s3://lake/churn.csv" and version.row_count == 60
    assert version.schema == {"mlflow_colspec": [{"name": "tenure", "type": "double"}]}
    assert version.profile["mlflow_dataset"]["digest"] == "d1"
    assert list(mlflow_run.run.input_links.values_list("role", flat=True)) == [DatasetRole.TRAIN]
    assert list(other.run.input_links.values_list("role", flat=True)) == [DatasetRole.VALIDATION]
    mlflow_run_inputs_log(actor=contributor, mlflow_run=mlflow_run, datasets=[logged(digest="d2")])
    assert sorted(Dataset.objects.get().versions.values_list("version", flat=True)) == [1, 2]
    assert AuditEvent.objects.filter(action="run.inputs_add").count() == 3


def test_it_never_touches_another_teams_dataset_of_the_same_name(contributor, outsider, carols):
    theirs = dataset_create(actor=outsider, name="churn", owner_team=outsider.teams.get())
    _, mlflow_run = carols
    mlflow_run_inputs_log(actor=contributor, mlflow_run=mlflow_run, datasets=[logged()])
    [link] = mlflow_run.run.input_links.select_related("dataset_version__dataset")
    ours = link.dataset_version.dataset
    assert ours.name == "churn-credit-risk" and ours.owner_team == mlflow_run.run.team
    assert not theirs.versions.exists()


def test_it_refuses_inputs_to_a_reader(member, carols):
    _, mlflow_run = carols
    with pytest.raises(Forbidden):
        mlflow_run_inputs_log(actor=member, mlflow_run=mlflow_run, datasets=[logged()])
    assert not DatasetVersion.objects.exists()


def test_it_fixes_a_logged_models_files_when_ready(contributor, carols, outsider):
    experiment, mlflow_run = carols
    model = logged_model_create(
        actor=contributor, experiment=experiment, name="model", source_run=mlflow_run
    )
    root = f"{experiment.pk}/models/{model.model_id}/artifacts"
    put(contributor, f"{root}/MLmodel", b"flavors: {}")
    logged_model_finalize(actor=contributor, logged_model=model, status=LoggedModelStatus.READY)
    event = AuditEvent.objects.get(action="mlflow.logged_model.finalize")
    line = f"MLmodel\t{hashlib.sha256(b'flavors: {}').hexdigest()}\t11\n"
    assert event.data["manifest_sha256"] == hashlib.sha256(line.encode()).hexdigest()
    with pytest.raises(Conflict):
        put(contributor, f"{root}/extra.bin", b"late")
    with pytest.raises(InvalidInput):
        logged_model_finalize(
            actor=contributor, logged_model=model, status=LoggedModelStatus.FAILED
        )
    with pytest.raises(NotFound):
        logged_model_get(outsider, model.model_id)
    assert not any(Path(artifact_tmp_dir()).iterdir())


def test_it_keeps_a_logged_models_params_and_deletes_softly(contributor, carols, member):
    experiment, mlflow_run = carols
    model = logged_model_create(
        actor=contributor, experiment=experiment, source_run=mlflow_run, params={"C": "1"}
    )
    logged_model_update(actor=contributor, logged_model=model, tags={"k": "v"}, params={"a": "b"})
    with pytest.raises(InvalidInput):
        logged_model_update(actor=contributor, logged_model=model, params={"C": "2"})
    with pytest.raises(Forbidden):
        logged_model_update(actor=member, logged_model=model, tags={"k": "w"})
    logged_model_delete(actor=contributor, logged_model=model)
    model.refresh_from_db()
    assert model.params == {"C": "1", "a": "b"} and model.tags == {"k": "v"}
    assert model.lifecycle_stage == "deleted"


def test_run_provenance_add_adds_and_never_rewrites(contributor, carols):
    _, mlflow_run = carols
    run = mlflow_run.run
    run_provenance_add(actor=contributor, run=run, params={"C": "1"}, code={"code_commit": "abc"})
    run_provenance_add(actor=contributor, run=run, params={"C": "1"})  # nothing new
    before = AuditEvent.objects.count()
    with pytest.raises(InvalidInput):
        run_provenance_add(actor=contributor, run=run, params={"C": "2"})
    with pytest.raises(InvalidInput):
        run_provenance_add(actor=contributor, run=run, code={"code_commit": "def"})
    with pytest.raises(InvalidInput):
        run_provenance_add(actor=contributor, run=run, code={"python_version": "3"})
    with pytest.raises(InvalidInput):
        run_provenance_add(actor=contributor, run=run, metrics={"auc": float("nan")})
    assert AuditEvent.objects.count() == before
    run.refresh_from_db()
    assert run.params == {"C": "1"} and run.code_commit == "abc"
    assert AuditEvent.objects.filter(action="run.provenance_add").count() == 1


def test_latest_metric_is_the_highest_step_then_time_then_value(contributor, carols):
    _, mlflow_run = carols
    points = [
        MetricPoint("loss", 0.1, timestamp=100, step=5),
        MetricPoint("loss", 0.9, timestamp=900, step=2),  # later, but an earlier step
        MetricPoint("auc", 0.7, timestamp=100, step=1),
        MetricPoint("auc", 0.8, timestamp=200, step=1),
        MetricPoint("acc", 0.3, timestamp=100, step=0),
        MetricPoint("acc", 0.4, timestamp=100, step=0),
    ]
    mlflow_run_log(actor=contributor, mlflow_run=mlflow_run, metrics=points)
    latest = metrics_latest([mlflow_run.run.pk])[mlflow_run.run.pk]
    assert {key: row.value for key, row in latest.items()} == {"loss": 0.1, "auc": 0.8, "acc": 0.4}
    assert metrics_latest([]) == {}
