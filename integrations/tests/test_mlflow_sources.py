"""What an MLflow source names among the files Steward holds (``mlflow_source_resolve``), as the
registry routes use it: each kind of source, the manifest that fixes the files' content, and
what another team, an absent path or foreign storage answer."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pytest

from core.errors import InvalidInput, NotFound
from integrations.mlflow.artifacts.selectors import artifact_target_resolve
from integrations.mlflow.artifacts.services import artifact_file_put
from integrations.mlflow.artifacts.streaming import StreamedBody
from integrations.mlflow.sources import SourceNotHeld, artifact_proxy_url, mlflow_source_resolve
from integrations.mlflow.tracking.logged_models import logged_model_create
from integrations.mlflow.tracking.services import experiment_create, mlflow_run_create
from registry.services.artifacts import artifact_tmp_dir

pytestmark = pytest.mark.django_db


def put(actor, path: str, content: bytes):
    handle = tempfile.NamedTemporaryFile(dir=artifact_tmp_dir(), delete=False)  # noqa: SIM115
    handle.write(content)
    handle.close()
    body = StreamedBody(Path(handle.name), hashlib.sha256(content).hexdigest(), len(content))
    return artifact_file_put(actor=actor, target=artifact_target_resolve(actor, path), body=body)


@pytest.fixture
def logged(contributor):
    experiment = experiment_create(actor=contributor, name="churn-exp")
    mlflow_run = mlflow_run_create(actor=contributor, experiment=experiment, run_name="r1")
    model = logged_model_create(
        actor=contributor, experiment=experiment, name="model", source_run=mlflow_run
    )
    model_dir = f"{experiment.pk}/models/{model.model_id}/artifacts"
    put(contributor, f"{model_dir}/MLmodel", b"flavors: {}\n")
    put(contributor, f"{model_dir}/model.pkl", b"pickled")
    run_dir = f"{experiment.pk}/{mlflow_run.run.uuid.hex}/artifacts"
    put(contributor, f"{run_dir}/plots/roc.png", b"png")
    return experiment, mlflow_run, model


def manifest(lines: list[str]) -> str:
    return hashlib.sha256("".join(sorted(lines)).encode()).hexdigest()


def test_it_resolves_a_logged_model_with_the_manifest_of_its_files(logged, contributor):
    experiment, mlflow_run, model = logged
    resolved = mlflow_source_resolve(actor=contributor, source=f"models:/{model.model_id}")
    assert resolved.storage_root == f"{experiment.pk}/models/{model.model_id}/artifacts"
    assert [f.path for f in resolved.files] == ["MLmodel", "model.pkl"]
    assert resolved.logged_model == model
    assert resolved.run == mlflow_run.run
    assert resolved.experiment == experiment
    assert resolved.size_bytes == len(b"flavors: {}\n") + len(b"pickled")
    assert resolved.manifest_sha256 == manifest(
        [
            f"MLmodel\t{hashlib.sha256(b'flavors: {}' + bytes([10])).hexdigest()}\t12\n",
            f"model.pkl\t{hashlib.sha256(b'pickled').hexdigest()}\t7\n",
        ]
    )


def test_it_resolves_the_same_files_by_every_name_of_them(logged, contributor):
    experiment, mlflow_run, model = logged
    root = f"{experiment.pk}/models/{model.model_id}/artifacts"
    expected = mlflow_source_resolve(actor=contributor, source=f"models:/{model.model_id}")
    for source in (
        f"mlflow-artifacts:/{root}",
        f"mlflow-artifacts://steward.example:443/{root}",
        f"https://steward.example/api/2.0/mlflow-artifacts/artifacts/{root}",
        f"runs:/{mlflow_run.run.uuid.hex}/model",
    ):
        resolved = mlflow_source_resolve(actor=contributor, source=source)
        assert resolved.storage_root == root, source
        assert resolved.manifest_sha256 == expected.manifest_sha256, source
        assert resolved.logged_model == model, source


def test_it_resolves_a_run_artifact_directory_and_a_single_file(logged, contributor):
    experiment, mlflow_run, _ = logged
    run_hex = mlflow_run.run.uuid.hex
    resolved = mlflow_source_resolve(actor=contributor, source=f"runs:/{run_hex}/plots")
    assert resolved.storage_root == f"{experiment.pk}/{run_hex}/artifacts/plots"
    assert [f.path for f in resolved.files] == ["plots/roc.png"]
    assert resolved.logged_model is None
    one = mlflow_source_resolve(actor=contributor, source=f"runs:/{run_hex}/plots/roc.png")
    assert one.manifest_sha256 == resolved.manifest_sha256  # named by the file's name


def test_it_takes_the_run_from_run_id_and_refuses_another_run(logged, contributor):
    experiment, mlflow_run, model = logged
    other = mlflow_run_create(actor=contributor, experiment=experiment, run_name="r2")
    source = f"models:/{model.model_id}"
    resolved = mlflow_source_resolve(
        actor=contributor, source=source, run_id=mlflow_run.run.uuid.hex
    )
    assert resolved.run == mlflow_run.run
    with pytest.raises(InvalidInput):
        mlflow_source_resolve(actor=contributor, source=source, run_id=other.run.uuid.hex)


def test_it_answers_another_teams_source_as_absent(logged, outsider):
    _, mlflow_run, model = logged
    for source in (f"models:/{model.model_id}", f"runs:/{mlflow_run.run.uuid.hex}/model"):
        with pytest.raises(NotFound):
            mlflow_source_resolve(actor=outsider, source=source)


def test_it_answers_an_empty_or_unknown_place_as_absent(logged, contributor):
    experiment, mlflow_run, _ = logged
    for source in (
        f"runs:/{mlflow_run.run.uuid.hex}/nothing-here",
        f"models:/m-{'0' * 32}",
        f"mlflow-artifacts:/{experiment.pk}/elsewhere",
        "runs:/not-a-run-id/model",
    ):
        with pytest.raises(NotFound):
            mlflow_source_resolve(actor=contributor, source=source)


def test_it_refuses_climbing_paths(logged, contributor):
    experiment, mlflow_run, _ = logged
    with pytest.raises(InvalidInput):
        mlflow_source_resolve(
            actor=contributor,
            source=f"mlflow-artifacts:/{experiment.pk}/{mlflow_run.run.uuid.hex}/artifacts/../x",
        )


def test_it_says_when_storage_is_not_steward_s(contributor):
    for source in ("s3://bucket/model", "file:///tmp/model", "models:/churn/1", "gs://b/m"):
        with pytest.raises(SourceNotHeld):
            mlflow_source_resolve(actor=contributor, source=source)
    with pytest.raises(SourceNotHeld):
        mlflow_source_resolve(actor=contributor, source="https://elsewhere.example/model.pkl")


def test_it_gives_the_proxy_url_of_a_root(rf, settings):
    settings.ALLOWED_HOSTS = ["steward.example"]
    request = rf.get("/", HTTP_HOST="steward.example")
    url = artifact_proxy_url(request, "3/models/m-ab/artifacts")
    assert (
        url == "http://steward.example/api/2.0/mlflow-artifacts/artifacts/3/models/m-ab/artifacts"
    )
