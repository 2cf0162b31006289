"""What an MLflow ``source`` names, among the files Steward holds.

A model version registered through MLflow names its files by a ``source``: a logged model
(``models:/m-<id>``, MLflow 3), an artifact path (``mlflow-artifacts:/<path>``, or the same
path as an URL of the artifact proxy, ``http(s)://<host>/api/2.0/mlflow-artifacts/artifacts/
<path>``), or a run's artifact (``runs:/<run id>/<path>``, which MLflow 3 also resolves to the
run's logged model of that name). :func:`mlflow_source_resolve` finds the files there that the
actor may see, with a manifest that fixes their content; anything else (``s3://``,
``file://``...) is :class:`SourceNotHeld`: storage Steward does not hold, recorded, not read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from django.urls import reverse

from accounts.models import User
from core.errors import InvalidInput, NotFound
from integrations.mlflow.artifacts.paths import artifact_path_clean, model_root
from integrations.mlflow.artifacts.selectors import (
    ArtifactTarget,
    artifact_files_under,
    artifact_manifest,
    artifact_target_resolve,
)
from integrations.mlflow.tracking.selectors import logged_model_get, run_get
from integrations.models.mlflow import (
    LifecycleStage,
    MlflowArtifactFile,
    MlflowExperiment,
    MlflowLoggedModel,
)
from registry.models import Run

PROXY_PATH = "/api/2.0/mlflow-artifacts/artifacts/"
_LOGGED_MODEL = re.compile(r"^m-[0-9a-f]{32}$")


class SourceNotHeld(Exception):
    """The source names storage Steward does not hold (s3://, file://...)."""


@dataclass(frozen=True)
class ResolvedSource:
    experiment: MlflowExperiment
    storage_root: str  # artifact path of the files, e.g. "3/models/m-ab12/artifacts"
    # or "3/<run_id>/artifacts/model"
    files: list[MlflowArtifactFile]
    manifest_sha256: str  # sha256 of the sorted "<relative path>\t<sha256>\t<size>\n" lines
    size_bytes: int
    run: Run | None
    logged_model: MlflowLoggedModel | None


def mlflow_source_resolve(*, actor: User, source: str, run_id: str = "") -> ResolvedSource:
    """The files ``source`` names that ``actor`` may see. ``run_id`` (a model version's run)
    names the run when the source does not; naming another run than the source's is refused.
    NotFound when the source is invisible, absent or holds no file; SourceNotHeld for storage
    Steward does not hold."""
    if not isinstance(source, str) or not source.strip():
        raise InvalidInput("A source is required.")
    if "\x00" in source:
        raise InvalidInput("A source cannot contain a NUL character.")
    scheme, _, rest = source.strip().partition(":")
    scheme = scheme.lower()
    if scheme == "models":
        target = _logged_model_target(actor, rest)
    elif scheme == "mlflow-artifacts":
        target = artifact_target_resolve(actor, _without_authority(rest))
    elif scheme in ("http", "https"):
        target = artifact_target_resolve(actor, _proxy_path(source))
    elif scheme == "runs":
        target = _run_target(actor, rest)
    else:
        raise SourceNotHeld(f"Steward does not hold the storage of '{source[:200]}'.")
    return _resolved(actor, target, run_id)


def _without_authority(rest: str) -> str:
    """``mlflow-artifacts:/3/x`` or ``mlflow-artifacts://host:port/3/x`` -> ``3/x``."""
    if rest.startswith("//"):
        rest = rest[2:].partition("/")[2]
    return rest.lstrip("/")


def _proxy_path(url: str) -> str:
    path = urlsplit(url).path
    if not path.startswith(PROXY_PATH):
        raise SourceNotHeld(f"'{url[:200]}' is not Steward's artifact proxy.")
    return unquote(path[len(PROXY_PATH) :])


def _logged_model_target(actor: User, rest: str) -> ArtifactTarget:
    model_id, _, sub_path = rest.lstrip("/").partition("/")
    if not _LOGGED_MODEL.match(model_id):
        # models:/<name>/<version> names a registered model version, not files.
        raise SourceNotHeld(f"'models:{rest[:200]}' does not name a logged model.")
    logged_model = logged_model_get(actor, model_id)
    if logged_model.lifecycle_stage != LifecycleStage.ACTIVE:
        raise NotFound(f"Logged model '{model_id}' not found.")
    root = model_root(logged_model.experiment_id, model_id)
    path = f"{root}/{sub_path}" if sub_path else root
    return artifact_target_resolve(actor, path)


def _run_target(actor: User, rest: str) -> ArtifactTarget:
    run_hex, _, sub_path = rest.lstrip("/").partition("/")
    mlflow_run = run_get(actor, run_hex)
    sub_path = artifact_path_clean(sub_path)
    root = f"{mlflow_run.experiment_id}/{mlflow_run.run.uuid.hex}/artifacts"
    target = artifact_target_resolve(actor, f"{root}/{sub_path}" if sub_path else root)
    if sub_path and artifact_files_under(target.location.root, target.location.path).exists():
        return target
    # MLflow 3 keeps log_model's files under the logged model: runs:/<id>/<name>[/<path>].
    name, _, below = sub_path.partition("/")
    logged_model = (
        MlflowLoggedModel.objects.filter(
            run=mlflow_run.run, name=name, lifecycle_stage=LifecycleStage.ACTIVE
        )
        .order_by("-created_at")
        .first()
        if name
        else None
    )
    if logged_model is None:
        return target
    root = model_root(logged_model.experiment_id, logged_model.model_id)
    return artifact_target_resolve(actor, f"{root}/{below}" if below else root)


def _resolved(actor: User, target: ArtifactTarget, run_id: str) -> ResolvedSource:
    location = target.location
    files = list(artifact_files_under(location.root, location.path).order_by("path"))
    if not files:
        raise NotFound("No artifact files at this source.")
    run = target.run
    if run_id:
        named = run_get(actor, run_id).run
        if run is not None and named.pk != run.pk:
            raise InvalidInput("run_id names another run than the source's.")
        run = named
    manifest = artifact_manifest(files, location.path)
    return ResolvedSource(
        experiment=target.experiment,
        storage_root=location.full,
        files=files,
        manifest_sha256=manifest.sha256,
        size_bytes=manifest.size_bytes,
        run=run,
        logged_model=target.logged_model,
    )


def artifact_proxy_url(request, storage_root: str) -> str:
    """The absolute URL of the artifact proxy at ``storage_root``, for get-download-uri."""
    path = reverse("mlflow-artifact-file", kwargs={"path": "x"})[: -len("x")]
    return request.build_absolute_uri(path + quote(storage_root, safe="/"))
