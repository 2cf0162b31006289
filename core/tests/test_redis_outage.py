"""Redis goes away under a running Steward: a real redis-server the test starts on its own port,
a real Celery worker (subprocess), the PostgreSQL test database, requests through the whole
web stack. While Redis is down the web keeps serving reads and accepting writes, the task
requests wait in the outbox and the pages say so; once Redis is back they run, none lost and
none twice."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from config.celery import app
from core.models import TaskRequest, TaskRequestState
from governance.choices import DocumentStatus
from governance.models import GeneratedDocument
from governance.services.documents import document_templates_install
from governance.tests import documents_fixtures
from governance.tests.test_documents_worker import Worker, _database_url, _reset_producers
from tests.services import require_postgres, service_missing

doc_version = documents_fixtures.doc_version

pytestmark = [
    pytest.mark.celery,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]
TIMEOUT = 60


class RedisServer:
    """A redis-server of the test's own on a free port, stopped and started at will."""

    def __init__(self, folder: Path):
        binary = shutil.which("redis-server")
        if binary is None:
            service_missing("needs the redis-server program (Debian package redis-server)")
        self.binary, self.folder = binary, folder
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self.answers():
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        assert not self.answers()

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def worker(django_db_blocker, redis_server, tmp_path, settings):
    """The project's worker (governance's test worker: the real app plus two fault switches
    that stay off here) on the test's Redis; this process publishes to the same broker."""
    with django_db_blocker.unblock():
        require_postgres()
        database_url = _database_url()
    queue = f"steward-outage-{uuid.uuid4().hex[:8]}"
    settings.DOCUMENTS_ROOT = tmp_path / "documents"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_server.url,
        "STEWARD_DOCUMENTS_ROOT": str(settings.DOCUMENTS_ROOT),
        "STEWARD_TEST_FAIL_ONCE": str(tmp_path / "fail-once"),
        "STEWARD_TEST_SLOW": str(tmp_path / "slow"),
    }
    saved = {
        key: app.conf[key] for key in ("task_always_eager", "broker_url", "task_default_queue")
    }
    app.conf.update(task_always_eager=False, broker_url=redis_server.url, task_default_queue=queue)
    _reset_producers()
    process = Worker(queue=queue, env=env, folder=tmp_path)
    process.start()
    yield process
    process.stop()
    app.conf.update(**saved)
    _reset_producers()


def _wait(probe, what: str, worker: Worker, timeout: float = TIMEOUT):
    deadline = time.monotonic() + timeout
    while not (found := probe()):
        if time.monotonic() > deadline:
            logs = "\n".join(p.read_text()[-2000:] for p in worker.folder.glob("worker-*.log"))
            raise AssertionError(f"{what} did not happen within {timeout}s\n{logs}")
        time.sleep(0.2)
    return found


def _documents_url(version) -> str:
    return f"/api/v1/models/{version.registered_model.name}/versions/{version.version}/documents/"


def _all_done() -> bool:
    states = set(TaskRequest.objects.values_list("state", flat=True))
    return states == {TaskRequestState.DONE}


def test_while_redis_is_down_the_web_serves_and_queues_and_nothing_is_lost(
    client, worker, redis_server, doc_version, contributor
):
    document_templates_install()  # a transactional test's flush removed the migration's rows
    client.force_login(contributor)
    url = _documents_url(doc_version)

    # Redis up: a document is generated by the worker and its request marked done.
    response = client.post(url, {"template": "model-card"}, content_type="application/json")
    assert response.status_code == 202, response.content
    _wait(_all_done, "the first document", worker)

    # Redis goes away. Reads and writes still answer; the new request waits in the outbox.
    redis_server.stop()
    assert client.get(reverse("registry:model-list")).status_code == 200
    assert client.get(url).status_code == 200
    response = client.post(url, {"template": "eu-ai-act-annex-iv"}, content_type="application/json")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == DocumentStatus.QUEUED
    waiting = TaskRequest.objects.get(state=TaskRequestState.PENDING)
    assert waiting.task == "governance.generate_document" and waiting.last_error
    # ...and, once it has waited a while, every page says that work is queued.
    TaskRequest.objects.filter(pk=waiting.pk).update(
        created_at=timezone.now() - timezone.timedelta(minutes=2)
    )
    page = client.get(reverse("registry:model-list")).text
    assert "1 background task (documents, checks, alerts)" in page
    assert call_command("relay_outbox") is None  # still down: relaying sends nothing
    assert TaskRequest.objects.get(pk=waiting.pk).state == TaskRequestState.PENDING

    # Redis comes back (empty: it keeps nothing on disk); the relay - beat's tick - sends the
    # waiting request and the worker, which reconnected by itself, runs it.
    redis_server.start()
    log = worker.folder / f"worker-{worker.starts}.log"
    _wait(lambda: log.read_text().count("Connected to redis") >= 2, "reconnection", worker)
    call_command("relay_outbox")
    _wait(_all_done, "the queued document", worker)

    documents = GeneratedDocument.objects.filter(version=doc_version)
    assert documents.count() == 2
    assert set(documents.values_list("status", flat=True)) == {DocumentStatus.DONE}
    assert TaskRequest.objects.count() == 2  # every request, once
    assert "background task" not in client.get(reverse("registry:model-list")).text


def test_a_worker_started_after_the_outage_sends_what_waited(
    client, worker, redis_server, doc_version, contributor
):
    """No beat running: the worker that starts once Redis is back relays the outbox itself."""
    document_templates_install()
    client.force_login(contributor)
    worker.stop()
    redis_server.stop()

    response = client.post(
        _documents_url(doc_version), {"template": "model-card"}, content_type="application/json"
    )
    assert response.status_code == 202, response.content
    assert TaskRequest.objects.filter(state=TaskRequestState.PENDING).count() == 1
    TaskRequest.objects.update(created_at=timezone.now() - timezone.timedelta(minutes=1))

    redis_server.start()
    _reset_producers()  # this process's pooled connection died with the old server
    worker.start()
    _wait(_all_done, "the queued document", worker)
    document = GeneratedDocument.objects.get(version=doc_version)
    assert document.status == DocumentStatus.DONE and document.attempts == 1
