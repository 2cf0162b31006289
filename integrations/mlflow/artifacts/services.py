"""Writes under MLflow's artifact roots: a file's bytes go to Steward's content-addressed store
(``registry.services.artifact_store``, the uploader's ``Artifact`` row and its
``artifact.upload`` chain event), the file's place under the root is an ``MlflowArtifactFile``.

Files are evidence: a file once logged keeps its bytes after its run has ended or its logged
model is READY (the same bytes again are accepted, as a retried upload; other bytes are a
conflict), and is removed only while its run runs or its model is pending. Files a model
version was registered from never change at all, whatever happens to their run afterwards (a
run can be set RUNNING again; its registered files stay as they were judged)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q

from accounts.access import require, require_in_team
from accounts.choices import Verb
from accounts.models import User
from core.errors import Conflict
from core.eventlog import audit_event_append
from integrations.mlflow.artifacts.selectors import ArtifactTarget, artifact_files_under
from integrations.mlflow.artifacts.streaming import StreamedBody
from integrations.models.mlflow import (
    LoggedModelStatus,
    MlflowArtifactFile,
    MlflowVersionSource,
)
from registry.choices import RunStatus
from registry.services.artifacts import artifact_store


def artifact_target_require_change(actor: User, target: ArtifactTarget) -> None:
    """Writing under a root needs what changing its run needs in Steward's own API (a logged
    model without a run: changing runs of the experiment's team)."""
    run = target.run
    if run is not None:
        require(actor, Verb.CHANGE, run)
    else:
        require_in_team(actor, Verb.CHANGE, target.experiment.team)


def _still_open(target: ArtifactTarget) -> bool:
    """Whether the root's files may still change (its run runs, its model is pending)."""
    if target.logged_model is not None:
        return target.logged_model.status == LoggedModelStatus.PENDING
    return target.mlflow_run.run.status == RunStatus.RUNNING


def artifact_file_put(
    *, actor: User, target: ArtifactTarget, body: StreamedBody, content_type: str = ""
) -> MlflowArtifactFile:
    """Keep the streamed ``body`` as the file at the target's path."""
    try:
        artifact_target_require_change(actor, target)
        location = target.location
        if not location.path:
            raise Conflict("An artifact root is a directory; name a file under it.")
        if target.logged_model is not None and not _still_open(target):
            raise Conflict(
                f"Logged model {target.logged_model.model_id} is finalized; its files are fixed."
            )
        _refuse_file_directory_clash(location.root, location.path)
        _refuse_registered_files(location.root, location.path)
    except BaseException:
        body.path.unlink(missing_ok=True)
        raise
    artifact, _ = artifact_store(
        actor=actor,
        temp_path=body.path,
        sha256=body.sha256,
        size_bytes=body.size_bytes,
        original_name=location.path.rsplit("/", 1)[-1],
        content_type=content_type,
    )
    with transaction.atomic():
        existing = (
            MlflowArtifactFile.objects.select_for_update()
            .select_related("artifact")
            .filter(root=location.root, path=location.path)
            .first()
        )
        if existing is not None:
            if existing.artifact.sha256 == artifact.sha256:
                return existing
            if not _still_open(target):
                raise Conflict(
                    f"'{location.path}' was logged with other content; files of an ended run "
                    "cannot change."
                )
            existing.artifact = artifact
            existing.save(update_fields=["artifact"])
            return existing
        try:
            with transaction.atomic():
                return MlflowArtifactFile.objects.create(
                    experiment=target.experiment,
                    root=location.root,
                    path=location.path,
                    artifact=artifact,
                )
        except IntegrityError as exc:  # a concurrent upload of the same path won
            raise Conflict(f"'{location.path}' is being uploaded by another request.") from exc


def _refuse_registered_files(root: str, path: str) -> None:
    """Refuse a change at ``path`` if a registered version's files lie there: the path is in a
    version's folder (a file replaced or added), or a version's folder is in it (a directory
    deleted). Checked under the same lock-free rule as the clash check: registration reads the
    files in its own transaction, and the manifest it stores would show any later change."""
    full = f"{root}/{path}" if path else root
    parts = full.split("/")
    enclosing = ["/".join(parts[:index]) for index in range(1, len(parts) + 1)]
    registered = MlflowVersionSource.objects.filter(
        Q(storage_root__in=enclosing) | Q(storage_root__startswith=f"{full}/")
    ).exists()
    if registered:
        raise Conflict(
            f"'{path or root}' holds files a model version was registered from; a registered "
            "version's files never change. Log to another path, or in a new run."
        )


def _refuse_file_directory_clash(root: str, path: str) -> None:
    parents = []
    parts = path.split("/")
    for index in range(1, len(parts)):
        parents.append("/".join(parts[:index]))
    clash = MlflowArtifactFile.objects.filter(root=root, path__in=parents).exists() or (
        MlflowArtifactFile.objects.filter(root=root, path__startswith=f"{path}/").exists()
    )
    if clash:
        raise Conflict(f"'{path}' clashes with a file or directory already logged.")


@transaction.atomic
def artifact_files_delete(*, actor: User, target: ArtifactTarget) -> int:
    """Remove the file or directory at the target's path from the root (the stored bytes and
    their upload rows stay: other records may name them). Returns how many files went."""
    artifact_target_require_change(actor, target)
    files = list(artifact_files_under(target.location.root, target.location.path))
    if not files:
        return 0
    _refuse_registered_files(target.location.root, target.location.path)
    if not _still_open(target):
        raise Conflict(
            "Files of an ended run or a finalized logged model are kept; they cannot be deleted."
        )
    audit_event_append(
        actor=actor,
        action="mlflow.artifacts.delete",
        subject=target.run,
        data={
            "root": target.location.root,
            "files": [{"path": f.path, "sha256": f.artifact.sha256} for f in files],
        },
    )
    MlflowArtifactFile.objects.filter(pk__in=[f.pk for f in files]).delete()
    return len(files)
