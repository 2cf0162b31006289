"""A live Steward (pytest-django's live_server, real HTTP) and the people and files the client
tests use: Carol's API token, a real git repository, a CSV data set and a model file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from accounts.services import token_create
from tests.factories import RegisteredModelFactory

GIT = shutil.which("git") or "git"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run([GIT, "-C", str(repo), *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def model(team):
    return RegisteredModelFactory(owner_team=team, name="credit-scoring")


@pytest.fixture
def carol_token(contributor) -> str:
    _, secret = token_create(actor=contributor, name="notebook", scopes=["read", "write", "submit"])
    return secret


@pytest.fixture
def otto_token(outsider) -> str:
    _, secret = token_create(actor=outsider, name="notebook", scopes=["read", "write"])
    return secret


@pytest.fixture
def steward_env(live_server, carol_token, monkeypatch, tmp_path):
    """The client configured from the environment, as a CI job is: Carol's token, a private
    config folder, short backoffs."""
    monkeypatch.setenv("STEWARD_URL", live_server.url)
    monkeypatch.setenv("STEWARD_TOKEN", carol_token)
    monkeypatch.setenv("STEWARD_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("STEWARD_RETRY_BACKOFF", "0.01")
    monkeypatch.delenv("STEWARD_CA_BUNDLE", raising=False)
    monkeypatch.delenv("STEWARD_IMAGE_DIGEST", raising=False)
    return live_server.url


@pytest.fixture
def repo(tmp_path) -> Path:
    """A git repository with one commit on branch ``main`` and a remote whose URL carries a
    token, as a CI checkout's often does."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "carol@example.org")
    git(path, "config", "user.name", "Carol")
    (path / "train.py").write_text("print('training')\n")
    git(path, "add", "train.py")
    git(path, "commit", "-q", "-m", "first")
    git(
        path,
        "remote",
        "add",
        "origin",
        "https://carol:s3cr3t-token@git.example.com/risk/credit.git",
    )
    return path


@pytest.fixture
def train_csv(tmp_path) -> Path:
    path = tmp_path / "loans-train.csv"
    path.write_text(
        'income,age,segment,note\n52000.5,41,retail,"two\nlines"\n38000,29,sme,\n61000,55,retail,x\n'
    )
    return path


@pytest.fixture
def test_csv(tmp_path) -> Path:
    path = tmp_path / "loans-test.csv"
    path.write_text("income,age,segment,note\n47000,38,sme,y\n")
    return path


@pytest.fixture
def model_file(tmp_path) -> Path:
    path = tmp_path / "model.pkl"
    path.write_bytes(b"not really a pickle: " + bytes(range(256)) * 64)
    return path
