"""Helpers for tests that need a real external service."""

from __future__ import annotations

import os

import pytest
from django.db import connection


def require_postgres() -> None:
    """Skip on another database when run by hand; under CI=true a missing PostgreSQL fails."""
    if connection.vendor == "postgresql":
        return
    message = f"needs PostgreSQL (DATABASE_URL); the test database is {connection.vendor}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)
