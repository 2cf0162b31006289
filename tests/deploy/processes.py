"""Helpers for the tests that start Steward's production processes."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVE = ROOT / "scripts" / "serve.py"

# What the test runner's own environment must not lend the production processes.
_OWN_PREFIXES = ("STEWARD_", "DATABASE_URL", "REDIS_URL", "DJANGO_", "WEB_", "WORKER_")


def production_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
    env.pop("HOST", None)
    env.pop("PORT", None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        STEWARD_SECRET_KEY=secrets.token_urlsafe(48),
        STEWARD_AUDIT_KEY=secrets.token_urlsafe(48),
    )
    env.update(values)
    return env


def pid_alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"
