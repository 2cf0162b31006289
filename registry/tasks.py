"""Celery tasks of the registry: thin wrappers over services."""

from __future__ import annotations

from celery import shared_task

from registry.services.artifacts import artifact_tmp_sweep


@shared_task(name="registry.sweep_upload_tmp", acks_late=True)
def sweep_upload_tmp() -> int:
    """Celery beat's tick: remove abandoned partial uploads from the artifact store's tmp/."""
    return artifact_tmp_sweep()
