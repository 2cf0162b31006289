"""Provenance captured from a real git repository and from this interpreter."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from steward_client.capture import (
    capture_code,
    capture_environment,
    provenance_fields,
    strip_credentials,
)

GIT = shutil.which("git")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        [GIT, "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "feature/tuning")
    git(path, "config", "user.email", "a@example.org")
    git(path, "config", "user.name", "A")
    (path / "train.py").write_text("x = 1\n")
    (path / ".gitignore").write_text("*.log\n")
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "one")
    return path


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("https://user:token@github.com/o/r.git", "https://github.com/o/r.git"),
        ("https://ghp_abc@github.com/o/r.git", "https://github.com/o/r.git"),
        ("ssh://git:pw@host:2222/o/r.git", "ssh://host:2222/o/r.git"),
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),
        ("https://github.com/o/r.git", "https://github.com/o/r.git"),
    ],
)
def test_credentials_are_stripped_from_remote_urls(remote, expected):
    assert strip_credentials(remote) == expected


def test_a_clean_checkout_gives_commit_branch_and_no_diff(repo):
    git(repo, "remote", "add", "origin", "https://ci:secret@git.example.com/risk/credit.git")
    info = capture_code(repo)
    assert info.commit == git(repo, "rev-parse", "HEAD")
    assert info.branch == "feature/tuning"
    assert info.repository == "https://git.example.com/risk/credit.git"
    assert (info.dirty, info.diff_sha256) == (False, "")


def test_a_change_makes_the_tree_dirty_and_the_diff_hash_follows_the_change(repo):
    (repo / "train.py").write_text("x = 2\n")
    first = capture_code(repo)
    assert first.dirty and len(first.diff_sha256) == 64
    assert capture_code(repo).diff_sha256 == first.diff_sha256  # same change, same hash
    (repo / "train.py").write_text("x = 3\n")
    assert capture_code(repo).diff_sha256 != first.diff_sha256


def test_an_untracked_file_is_dirty_an_ignored_one_is_not(repo):
    (repo / "debug.log").write_text("ignored\n")
    assert capture_code(repo).dirty is False
    (repo / "notes.md").write_text("new\n")
    untracked = capture_code(repo)
    assert untracked.dirty
    (repo / "notes.md").write_text("changed\n")
    assert capture_code(repo).diff_sha256 != untracked.diff_sha256


def test_a_detached_head_has_no_branch_and_no_remote_names_the_folder(repo):
    git(repo, "checkout", "-q", "--detach")
    info = capture_code(repo)
    assert info.branch == "" and info.repository == "repo" and len(info.commit) == 40


def test_outside_a_repository_nothing_is_invented(tmp_path):
    info = capture_code(tmp_path)
    assert (info.repository, info.commit, info.dirty) == ("", "", False)


def test_the_environment_names_this_python_and_its_distributions(monkeypatch):
    monkeypatch.setenv("STEWARD_IMAGE_DIGEST", "registry/x@sha256:" + "a" * 64)
    env = capture_environment()
    assert env.python_version.count(".") == 2
    assert "requests" in env.packages and "pytest" in env.packages
    assert env.image_digest == "sha256:" + "a" * 64
    assert env.platform


def test_no_digest_is_made_up(monkeypatch):
    for name in ("STEWARD_IMAGE_DIGEST", "IMAGE_DIGEST", "CONTAINER_IMAGE_DIGEST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IMAGE_DIGEST", "latest")
    assert capture_environment().image_digest == ""


def test_what_steward_has_no_field_for_travels_as_steward_params(repo):
    (repo / "train.py").write_text("x = 5\n")
    fields, extra = provenance_fields(capture_code(repo), capture_environment())
    assert set(fields) >= {"code_repository", "code_commit", "python_version", "packages"}
    assert extra["steward.git.branch"] == "feature/tuning"
    assert extra["steward.git.dirty"] is True
    assert "steward.platform" in extra
