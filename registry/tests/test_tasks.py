"""The registry's scheduled task: abandoned partial uploads leave the store's tmp/ folder."""

from __future__ import annotations

import os
import time

import pytest

from registry.services.artifacts import TMP_MAX_AGE, artifact_tmp_dir
from registry.tasks import sweep_upload_tmp


@pytest.fixture
def store(settings, tmp_path):
    settings.ARTIFACT_ROOT = tmp_path / "artifacts"
    return artifact_tmp_dir()


def _age(path, seconds: float) -> None:
    moment = time.time() - seconds
    os.utime(path, (moment, moment), follow_symlinks=False)


def test_it_removes_abandoned_uploads_and_keeps_those_in_progress(store, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("not the store's")
    abandoned = store / "upload-1.part"
    abandoned.write_bytes(b"half an artifact")
    in_progress = store / "upload-2.part"
    in_progress.write_bytes(b"still streaming")
    link = store / "planted-link"
    link.symlink_to(outside)
    folder = store / "a-folder"
    folder.mkdir()
    old = TMP_MAX_AGE.total_seconds() + 60
    for path in (abandoned, link, folder):
        _age(path, old)

    assert sweep_upload_tmp.apply().get() == 2

    assert sorted(p.name for p in store.iterdir()) == ["a-folder", "upload-2.part"]
    assert outside.read_text() == "not the store's"  # the link went, not its target


def test_beat_runs_the_sweep(settings):
    entries = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "registry.sweep_upload_tmp" in entries
