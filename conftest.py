"""Test configuration shared by every app.

Settings are read when pytest-django starts, after this module is imported, so the environment
defaults for tests are set here."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault(
    "STEWARD_SECRET_KEY", "test-only-secret-key-not-for-any-deployment-0123456789"
)
os.environ.setdefault(
    "STEWARD_AUDIT_KEY", "test-only-audit-key-not-for-any-deployment-9876543210abcdef"
)
# Playwright's sync API runs an event loop in the test thread; the ORM must still be usable.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402

SCREENSHOT_DIR = Path(__file__).resolve().parent / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("STEWARD_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(autouse=True)
def _artifact_root(settings, tmp_path):
    """Each test gets its own artifact store and documents folder."""
    settings.ARTIFACT_ROOT = tmp_path / "artifacts"
    settings.DOCUMENTS_ROOT = tmp_path / "documents"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Drive Debian's Chromium; Playwright's own browser download is not available here."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make system-deps`.")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-crash-reporter",
            "--disable-breakpad",
        ],
    }


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR


pytest_plugins = ["tests.personas", "tests.mlflow_fixtures"]
