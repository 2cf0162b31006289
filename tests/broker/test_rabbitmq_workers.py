"""Background work through a real RabbitMQ with two real Celery workers (subprocesses) against
the PostgreSQL test database: the document and the check tasks each start on one worker, which
is killed (SIGKILL) in the middle; RabbitMQ hands the unacknowledged message to the other
worker, which finishes it. Nothing is lost and nothing is stored twice."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from django.db import connection

from config.broker import broker_transport_options
from config.celery import app
from core.models import AuditEvent, TaskRequest, TaskRequestState
from governance.choices import DocumentStatus
from governance.models import GeneratedDocument
from governance.services.documents import document_request, document_templates_install, pdf_file
from governance.tests import documents_fixtures
from governance.tests.documents_fixtures import pdf_text
from monitoring.choices import CheckKind
from monitoring.models import CheckResult
from monitoring.services.checks import checks_request
from monitoring.services.ingestion import predictions_ingest
from monitoring.tasks import schedule_checks
from monitoring.tests.factories import DeploymentFactory, ProductionVersionFactory
from monitoring.tests.test_monitoring_services import (
    INPUT_SCHEMA,
    OUTPUT_SCHEMA,
    _baseline,
    _records,
)
from tests.factories import RegisteredModelFactory
from tests.services import require_postgres, require_rabbitmq

doc_version = documents_fixtures.doc_version  # the shared fixture

pytestmark = [
    pytest.mark.celery,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]
ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 30
TASK_TIMEOUT = 60
CHECK_KINDS = {
    CheckKind.DRIFT,
    CheckKind.PREDICTION_DRIFT,
    CheckKind.PERFORMANCE,
    CheckKind.BIAS,
    CheckKind.HEALTH,
}


@dataclass
class Worker:
    """One worker subprocess on the shared queue."""

    name: str
    queue: str
    env: dict[str, str]
    log_file: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        ready_before = self.log.count(" ready.")
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "tests.broker.broker_worker", self.queue, self.name],
            cwd=ROOT,
            env=self.env,
            stdout=self.log_file.open("a"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + READY_TIMEOUT
        while self.log.count(" ready.") <= ready_before:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not start\n{self.log[-4000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no clean-up, no acknowledgement; the kernel closes its broker connection."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if not self.alive:
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def received(self, task: str) -> list[str]:
        """Ids of the ``task`` messages this worker received."""
        return re.findall(rf"Task {re.escape(task)}\[([-\w]+)\] received", self.log)


@dataclass
class Pool:
    """The two workers and the file that stalls whichever of them runs the slow step."""

    workers: list[Worker]
    slow: Path
    delay: Path

    def restart_dead(self) -> None:
        for worker in self.workers:
            if not worker.alive:
                worker.start()

    def logs(self) -> str:
        return "\n".join(f"--- {w.name} ---\n{w.log[-6000:]}" for w in self.workers)

    def kill_the_one_that_started(self) -> tuple[Worker, Worker]:
        """Wait until a worker stalls in the slow step, let the next run go through, and kill
        the stalled one; returns (killed, survivor)."""
        started = Path(f"{self.slow}.started")
        deadline = time.monotonic() + TASK_TIMEOUT
        while not (started.exists() and started.read_text()):
            assert time.monotonic() < deadline, f"no worker started the task\n{self.logs()}"
            time.sleep(0.1)
        pid = int(started.read_text())
        self.slow.unlink()
        started.unlink()
        [killed] = [w for w in self.workers if w.pid == pid]
        [survivor] = [w for w in self.workers if w is not killed]
        killed.kill()
        return killed, survivor

    def wait_for(self, probe, what: str, timeout: float = TASK_TIMEOUT):
        deadline = time.monotonic() + timeout
        while not (found := probe()):
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} after {timeout}s\n{self.logs()}")
            time.sleep(0.2)
        return found


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _reset_producers() -> None:
    """Forget broker connections made with the previous settings (kombu keeps them in a
    global registry), so the next task sent goes to the broker now configured."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def _queue_delete(url: str, queue: str) -> None:
    """Nothing is left on the broker for a later run: the queue and its exchange."""
    from kombu import Connection

    with Connection(url, connect_timeout=2) as conn:
        channel = conn.channel()
        channel.queue_delete(queue)
        channel.exchange_delete(queue)


@pytest.fixture(scope="module")
def pool(django_db_setup, django_db_blocker, tmp_path_factory):
    """Two workers on one queue of their own (parallel runs do not take each other's tasks) in
    the RabbitMQ at STEWARD_TEST_RABBITMQ_URL, with no Redis at all: the broker is all they
    share besides the database. This process sends to the same queue through the outbox."""
    with django_db_blocker.unblock():
        require_postgres()
        rabbit_url = require_rabbitmq()
        database_url = _database_url()
    folder = tmp_path_factory.mktemp("rabbit-workers")
    queue = f"steward-rabbit-test-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": database_url,
        "STEWARD_BROKER_URL": rabbit_url,
        "STEWARD_DOCUMENTS_ROOT": str(folder / "documents"),
        "STEWARD_DOCUMENTS_AUTO_GENERATE": "false",
        "STEWARD_TEST_SLOW": str(folder / "slow"),
        "STEWARD_TEST_DELAY": str(folder / "delay"),
    }
    saved = {
        key: app.conf[key]
        for key in (
            "task_always_eager",
            "broker_url",
            "task_default_queue",
            "broker_transport_options",
        )
    }
    app.conf.update(
        task_always_eager=False,
        broker_url=rabbit_url,
        task_default_queue=queue,
        broker_transport_options=broker_transport_options(rabbit_url),
    )
    _reset_producers()
    workers = [
        Worker(f"{queue}-{n}@test", queue, env, folder / f"worker-{n}.log") for n in ("a", "b")
    ]
    try:
        for worker in workers:
            worker.start()
        yield Pool(workers=workers, slow=folder / "slow", delay=folder / "delay")
    finally:
        for worker in workers:
            worker.stop()
        _queue_delete(rabbit_url, queue)
        app.conf.update(**saved)
        _reset_producers()


@pytest.fixture(autouse=True)
def both_workers_running(request, pool):
    """Each test starts with two workers (the previous one killed one); a failed test shows
    their logs (under "Captured stdout teardown")."""
    pool.restart_dead()
    failed_before = request.session.testsfailed
    yield
    if request.session.testsfailed > failed_before:
        print(pool.logs())


@pytest.fixture
def documents_root(pool, settings):
    settings.DOCUMENTS_ROOT = Path(pool.workers[0].env["STEWARD_DOCUMENTS_ROOT"])
    settings.DOCUMENTS_AUTO_GENERATE = False
    document_templates_install()  # a transactional test's flush removed the migration's rows
    return settings.DOCUMENTS_ROOT


@pytest.fixture
def logged_deployment(team, validator, gateway, settings):
    """A deployment with a baseline and a thousand logged predictions of the last hours."""
    settings.DOCUMENTS_AUTO_GENERATE = False
    model = RegisteredModelFactory(owner_team=team, name="credit-scoring")
    version = ProductionVersionFactory(
        registered_model=model,
        input_schema=INPUT_SCHEMA,
        output_schema=OUTPUT_SCHEMA,
        metrics={"auc": 0.90, "accuracy": 0.85},
    )
    deployment = DeploymentFactory(model_version=version, name="credit-prod")
    _baseline(version, validator, np.random.default_rng(5), n=2000)
    records = _records(1000, np.random.default_rng(7), shift=1.0)
    predictions_ingest(actor=gateway, deployment=deployment, records=records)
    return deployment


def test_a_document_whose_worker_is_killed_is_finished_once_by_the_other(
    pool, documents_root, doc_version, contributor
):
    """SIGKILL while the PDF renders: RabbitMQ requeues the unacknowledged message as soon as
    the connection drops, the other worker runs it on the same document row, and the row, its
    file and its audit event exist once."""
    pool.slow.touch()
    document = document_request(actor=contributor, version=doc_version, template_name="model-card")
    [request] = TaskRequest.objects.filter(task="governance.generate_document")
    killed, survivor = pool.kill_the_one_that_started()
    document.refresh_from_db()
    assert document.status == DocumentStatus.RUNNING

    pool.wait_for(
        lambda: GeneratedDocument.objects.filter(
            pk=document.pk, status__in=[DocumentStatus.DONE, DocumentStatus.FAILED]
        ).exists(),
        "finished document",
    )
    document.refresh_from_db()
    assert document.status == DocumentStatus.DONE, document.error
    assert document.attempts == 2
    assert "credit-model" in pdf_text(pdf_file(document).read_bytes())
    assert GeneratedDocument.objects.filter(version=doc_version).count() == 1
    assert AuditEvent.objects.filter(action="document.generate").count() == 1
    # One message, received by both: the killed worker first, then the survivor, who ran it.
    task_id = str(request.pk)
    assert killed.received("governance.generate_document")[-1:] == [task_id]
    assert survivor.received("governance.generate_document")[-1:] == [task_id]
    pool.wait_for(
        lambda: TaskRequest.objects.get(pk=request.pk).state == TaskRequestState.DONE,
        "task request done",
    )


def test_checks_whose_worker_is_killed_are_finished_once_by_the_other(
    pool, logged_deployment, manager
):
    """SIGKILL in the fourth check of a run (three results stored): the other worker gets the
    message, finds the three results of the window, computes the two missing ones; every
    (kind, window) has one result."""
    pool.slow.touch()
    end = checks_request(actor=manager, deployment=logged_deployment)
    [request] = TaskRequest.objects.filter(task="monitoring.run_checks")
    killed, survivor = pool.kill_the_one_that_started()
    stored_before_kill = set(CheckResult.objects.values_list("kind", flat=True))
    assert stored_before_kill == CHECK_KINDS - {CheckKind.BIAS, CheckKind.HEALTH}

    pool.wait_for(lambda: CheckResult.objects.count() >= 5, "five check results")
    pool.wait_for(
        lambda: TaskRequest.objects.get(pk=request.pk).state == TaskRequestState.DONE,
        "task request done",
    )
    rows = list(CheckResult.objects.values_list("kind", "window_start", "window_end"))
    assert len(rows) == len(set(rows)) == 5
    assert {kind for kind, *_ in rows} == CHECK_KINDS
    hours = logged_deployment.check_window_hours
    assert {(start, stop) for _, start, stop in rows} == {(end - timedelta(hours=hours), end)}
    task_id = str(request.pk)
    assert killed.received("monitoring.run_checks")[-1:] == [task_id]
    assert survivor.received("monitoring.run_checks")[-1:] == [task_id]


def test_the_hourly_checks_of_many_deployments_are_shared_by_the_workers(pool, settings):
    """One tick of the dispatcher queues one task per deployment; both workers take some (each
    takes one message at a time, and each run lasts a second); every window ends with its five
    results and every request done."""
    settings.DOCUMENTS_AUTO_GENERATE = False
    deployments = [DeploymentFactory(name=f"fleet-{n}") for n in range(6)]
    pool.delay.write_text("1")
    try:
        assert schedule_checks.apply().get() == len(deployments)
        requests = TaskRequest.objects.filter(task="monitoring.run_checks")
        assert sorted(r.args[0] for r in requests) == sorted(d.pk for d in deployments)
        pool.wait_for(
            lambda: not requests.exclude(state=TaskRequestState.DONE).exists(),
            "every check request done",
        )
    finally:
        pool.delay.unlink()
    ids = {str(r.pk) for r in requests}
    ran = [set(w.received("monitoring.run_checks")) & ids for w in pool.workers]
    assert all(ran), f"a worker took none of the checks: {[len(r) for r in ran]}"
    assert ran[0] | ran[1] == ids and not ran[0] & ran[1]
    rows = list(CheckResult.objects.values_list("deployment", "kind", "window_end"))
    assert len(rows) == len(set(rows)) == len(deployments) * len(CHECK_KINDS)
    assert schedule_checks.apply().get() == 0  # the next tick finds every window done
