"""Which artifact root a path lies under, whether the user may see it, and the files there."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from accounts.models import User
from core.errors import NotFound
from integrations.mlflow.artifacts.paths import ArtifactLocation, artifact_location_parse
from integrations.mlflow.tracking.selectors import experiment_visible
from integrations.models import MlflowArtifactFile, MlflowExperiment, MlflowLoggedModel, MlflowRun
from registry.models import Run


@dataclass(frozen=True)
class ArtifactTarget:
    """A path under a root the user may see: the experiment, and the run or logged model the
    root belongs to (a logged model's ``run`` is the run that produced it, if any)."""

    location: ArtifactLocation
    experiment: MlflowExperiment
    mlflow_run: MlflowRun | None = None
    logged_model: MlflowLoggedModel | None = None

    @property
    def run(self) -> Run | None:
        if self.mlflow_run is not None:
            return self.mlflow_run.run
        return self.logged_model.run if self.logged_model is not None else None


def artifact_target_resolve(user: User, raw_path: str) -> ArtifactTarget:
    """The root ``raw_path`` lies under, if it exists and ``user`` may see it; else NotFound
    (the same answer for another team's root as for none)."""
    location = artifact_location_parse(raw_path)
    experiment = experiment_visible(user).filter(pk=location.experiment_id).first()
    if experiment is None:
        raise NotFound("No artifacts at this path.")
    if location.run_hex:
        mlflow_run = (
            MlflowRun.objects.select_related("run")
            .filter(experiment=experiment, run__uuid=location.run_hex)
            .first()
        )
        if mlflow_run is None:
            raise NotFound("No artifacts at this path.")
        return ArtifactTarget(location, experiment, mlflow_run=mlflow_run)
    logged_model = (
        MlflowLoggedModel.objects.select_related("run")
        .filter(experiment=experiment, model_id=location.model_id)
        .first()
    )
    if logged_model is None:
        raise NotFound("No artifacts at this path.")
    return ArtifactTarget(location, experiment, logged_model=logged_model)


def artifact_files_under(root: str, path: str) -> QuerySet[MlflowArtifactFile]:
    """Files of ``root`` at ``path`` (a file) or below it (a directory); all for ``path=""``."""
    files = MlflowArtifactFile.objects.select_related("artifact").filter(root=root)
    if path:
        files = files.filter(Q(path=path) | Q(path__startswith=f"{path}/"))
    return files


@dataclass(frozen=True)
class ListedEntry:
    path: str  # the name under the listed directory
    is_dir: bool
    file_size: int | None


def artifact_directory_list(target: ArtifactTarget) -> list[ListedEntry]:
    """What lies directly under the target's path: MLflow's listing (a file's own path lists
    nothing, as MLflow's stores answer)."""
    prefix = target.location.path
    entries: dict[str, ListedEntry] = {}
    for row in artifact_files_under(target.location.root, prefix).only(
        "path", "artifact__size_bytes"
    ):
        if row.path == prefix:
            continue
        rest = row.path[len(prefix) + 1 :] if prefix else row.path
        name, _, below = rest.partition("/")
        if below:
            entries.setdefault(name, ListedEntry(name, True, None))
        else:
            entries[name] = ListedEntry(name, False, row.artifact.size_bytes)
    return [entries[name] for name in sorted(entries)]


@dataclass(frozen=True)
class Manifest:
    sha256: str  # of the sorted "<relative path>\t<sha256>\t<size>\n" lines
    size_bytes: int
    count: int


def artifact_manifest(files: list[MlflowArtifactFile], path: str) -> Manifest:
    """What fixes the content of ``files`` found at ``path`` (a directory, or one file, whose
    relative path is then its name)."""
    lines = []
    for row in files:
        if row.path == path:
            relative = row.path.rsplit("/", 1)[-1]
        else:
            relative = row.path[len(path) + 1 :] if path else row.path
        lines.append(f"{relative}\t{row.artifact.sha256}\t{row.artifact.size_bytes}\n")
    return Manifest(
        sha256=hashlib.sha256("".join(sorted(lines)).encode()).hexdigest(),
        size_bytes=sum(row.artifact.size_bytes for row in files),
        count=len(files),
    )
