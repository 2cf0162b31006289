"""Helpers for tests that need a real external service."""

from __future__ import annotations

import os

import pytest
from django.db import connection


def service_missing(message: str) -> None:
    """A test's real service is not there: skip when run by hand, fail under CI=true, where a
    missing service must never pass silently."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def require_postgres() -> None:
    """The test database must be PostgreSQL."""
    if connection.vendor != "postgresql":
        service_missing(
            f"needs PostgreSQL (DATABASE_URL); the test database is {connection.vendor}"
        )


TEST_REDIS_URL = os.environ.get("STEWARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def require_redis(url: str = TEST_REDIS_URL) -> str:
    """The Redis URL real-worker tests use (a spare database number, so other users of the same
    server are not disturbed). Skips when it does not answer and the tests run by hand; under
    CI=true a missing Redis fails."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        service_missing(f"needs Redis at {url} (STEWARD_TEST_REDIS_URL): {exc}")
    return url


TEST_RABBITMQ_URL = os.environ.get(
    "STEWARD_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//"
)


def require_rabbitmq(url: str = TEST_RABBITMQ_URL) -> str:
    """The RabbitMQ URL the broker tests use. Skips when it does not answer and the tests run
    by hand; under CI=true a missing RabbitMQ fails."""
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001 - kombu raises the transport's own errors
        service_missing(f"needs RabbitMQ at {url} (STEWARD_TEST_RABBITMQ_URL): {exc}")
    return url
