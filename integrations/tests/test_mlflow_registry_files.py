"""A version registered from files Steward holds: the real client logs a model directory to a
run through the tracking routes, registers it, and downloads it back by version and by alias
through ``models:/`` URIs. The version is a draft with the run, the code, the environment and
the framework its files and run say, and its hash is that of the file manifest."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from mlflow.exceptions import MlflowException

from governance.choices import Action
from registry.choices import VersionStatus
from registry.models import ModelVersion
from tests.factories import version_decide

pytestmark = pytest.mark.django_db(transaction=True)
WHY = "Evidence reviewed; the metrics meet the policy."

MLMODEL = """\
artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    python_version: 3.11.9
  sklearn:
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.5.2
mlflow_version: 3.1.0
"""
FILES = {
    "MLmodel": MLMODEL,
    "python_env.yaml": "python: 3.11.9\nbuild_dependencies:\n- pip\ndependencies:\n"
    "- -r requirements.txt\n",
    "requirements.txt": "mlflow==3.1.0\nscikit-learn==1.5.2\nnumpy==2.1.0\n",
    "conda.yaml": "dependencies:\n- python=3.11.9\n- pip:\n  - mlflow==3.1.0\n",
    "model.pkl": "not a pickle: Steward never loads what it stores\n",
}


def _log_model_files(tmp_path) -> str:
    """A run whose artifacts hold a model directory, as ``log_model`` lays it out."""
    folder = tmp_path / "model"
    folder.mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(text)
    mlflow.set_experiment("churn-experiment")
    with mlflow.start_run() as run:
        mlflow.set_tag("mlflow.source.git.commit", "0123456789abcdef0123456789abcdef01234567")
        mlflow.log_artifacts(str(folder), artifact_path="model")
    return run.info.run_id


def _downloaded(uri: str, into) -> dict[str, str]:
    folder = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(into)))
    return {path.name: path.read_text() for path in folder.iterdir() if path.is_file()}


def test_a_version_from_held_files_carries_its_provenance_and_downloads_back(
    mlflow_as, contributor, validator, manager, tmp_path
):
    client = mlflow_as(contributor)
    run_id = _log_model_files(tmp_path)
    client.create_registered_model("churn")
    source = client.get_run(run_id).info.artifact_uri + "/model"
    created = client.create_model_version("churn", source, run_id=run_id)
    assert (created.version, created.run_id, created.source) == ("1", run_id, source)
    assert "steward.files" not in created.tags

    version = ModelVersion.objects.select_related("run").get(registered_model__name="churn")
    assert version.status == VersionStatus.DRAFT
    assert version.run.uuid.hex == run_id
    assert version.framework == "sklearn"
    assert version.python_version == "3.11.9"
    assert version.packages == {"mlflow": "3.1.0", "scikit-learn": "1.5.2", "numpy": "2.1.0"}
    assert version.code_commit == version.run.code_commit
    assert version.mlflow_source.storage_root.endswith(f"{run_id}/artifacts/model")
    assert len(version.artifact_sha256) == 64 and version.artifact_size == sum(
        len(text.encode()) for text in FILES.values()
    )

    assert [v.version for v in client.search_model_versions(f"run_id = '{run_id}'")] == ["1"]
    assert [v.version for v in client.search_model_versions(f"source_path = '{source}'")] == ["1"]
    assert list(client.search_model_versions(f"run_id = '{'0' * 32}'")) == []

    uri = client.get_model_version_download_uri("churn", "1")
    assert uri.startswith("http") and "/api/2.0/mlflow-artifacts/artifacts/" in uri
    assert _downloaded("models:/churn/1", tmp_path / "by-version") == FILES

    for actor, action in (
        (contributor, Action.SUBMIT),
        (validator, Action.CLAIM),
        (validator, Action.SIGN_OFF),
        (manager, Action.APPROVE),
    ):
        version_decide(actor=actor, version=version, action=action, motivation=WHY)
    mlflow_as(manager, scopes=("read", "write", "deploy")).set_registered_model_alias(
        "churn", "champion", "1"
    )
    assert _downloaded("models:/churn@champion", tmp_path / "by-alias") == FILES


def test_an_outsider_cannot_register_or_download_anothers_files(
    mlflow_as, contributor, outsider, tmp_path
):
    client = mlflow_as(contributor)
    run_id = _log_model_files(tmp_path)
    source = client.get_run(run_id).info.artifact_uri + "/model"
    client.create_registered_model("churn")
    client.create_model_version("churn", source, run_id=run_id)

    otto = mlflow_as(outsider)
    otto.create_registered_model("otto-model")
    with pytest.raises(MlflowException) as refused:
        otto.create_model_version("otto-model", source)
    assert refused.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as refused:
        otto.get_model_version_download_uri("churn", "1")
    assert refused.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert not ModelVersion.objects.filter(registered_model__name="otto-model").exists()
