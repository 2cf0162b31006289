"""Concurrent registrations on PostgreSQL never share a version number."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from registry import services
from registry.models import ModelVersion
from tests.factories import RegisteredModelFactory, fake_sha256
from tests.services import require_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 8
PER_WORKER = 5


def test_concurrent_registrations_get_distinct_consecutive_numbers(contributor, team):
    require_postgres()
    model = RegisteredModelFactory(owner_team=team)
    start = threading.Barrier(WORKERS)
    errors: list[BaseException] = []

    def register(worker: int) -> None:
        try:
            start.wait()
            for i in range(PER_WORKER):
                services.model_version_register(
                    actor=contributor,
                    registered_model=model,
                    artifact_uri=f"s3://m/{worker}-{i}",
                    artifact_sha256=fake_sha256((worker, i)),
                )
        except BaseException as exc:  # reported below; a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=(w,)) for w in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    numbers = sorted(
        ModelVersion.objects.filter(registered_model=model).values_list("version", flat=True)
    )
    assert numbers == list(range(1, WORKERS * PER_WORKER + 1))
