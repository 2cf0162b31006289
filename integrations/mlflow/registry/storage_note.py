"""The version page's "Stored in Steward" row for a version registered through MLflow: its files
are a folder logged through the artifact proxy, not one uploaded artifact."""

from __future__ import annotations

from django.db.models import Sum

from integrations.mlflow.artifacts.paths import artifact_location_parse
from integrations.mlflow.artifacts.selectors import artifact_files_under
from integrations.models import MlflowVersionSource
from registry.models import ModelVersion


def mlflow_version_storage_note(version: ModelVersion) -> str | None:
    """ "yes: N files (size) logged through MLflow under <root>", or None for a version MLflow
    did not register or whose source Steward does not hold."""
    source = MlflowVersionSource.objects.filter(model_version=version).first()
    if source is None or not source.storage_root:
        return None
    location = artifact_location_parse(source.storage_root)
    files = artifact_files_under(location.root, location.path)
    summary = files.aggregate(size=Sum("artifact__size_bytes"))
    count = files.count()
    if not count:
        return None
    noun = "file" if count == 1 else "files"
    return (
        f"yes: {count} {noun} ({summary['size'] or 0} bytes) logged through MLflow under "
        f"mlflow-artifacts:/{source.storage_root}; the SHA-256 above is their manifest's"
    )
