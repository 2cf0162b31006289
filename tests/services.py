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


TEST_REDIS_URL = os.environ.get("STEWARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def require_redis(url: str = TEST_REDIS_URL) -> str:
    """The Redis URL real-worker tests use (a spare database number, so other users of the same
    server are not disturbed). Skips when it does not answer and the tests run by hand; under
    CI=true a missing Redis fails."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        message = f"needs Redis at {url} (STEWARD_TEST_REDIS_URL): {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url
