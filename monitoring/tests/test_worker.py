"""Monitoring's checks and alert deliveries run by a real Celery worker (a subprocess) through
a real Redis broker, against the PostgreSQL test database: a drifting deployment's checks open
an alert whose signed webhook the worker delivers; a duplicated task changes nothing; a
receiver's server error is retried by the worker; a worker killed (SIGKILL) in the middle of
the checks or of a delivery leaves every task finished once its successor has run."""

from __future__ import annotations

import hashlib
import hmac
import json
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
from celery.result import AsyncResult
from django.db import connection
from django.utils import timezone

from config.celery import app
from core.tests.test_outbound import LocalReceiver
from monitoring.choices import ChannelKind, CheckKind, CheckStatus, DeliveryStatus
from monitoring.models import Alert, AlertDelivery, CheckResult
from monitoring.services.ingestion import predictions_ingest
from monitoring.tasks import run_checks
from monitoring.tests.factories import (
    AlertChannelFactory,
    AlertRuleFactory,
    DeploymentFactory,
    ProductionVersionFactory,
)
from monitoring.tests.test_monitoring_services import (
    INPUT_SCHEMA,
    OUTPUT_SCHEMA,
    _baseline,
    _records,
)
from tests.factories import RegisteredModelFactory
from tests.services import require_postgres, require_redis

pytestmark = [
    pytest.mark.celery,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]
ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 30
TASK_TIMEOUT = 30
CHECK_KINDS = {
    CheckKind.DRIFT,
    CheckKind.PREDICTION_DRIFT,
    CheckKind.PERFORMANCE,
    CheckKind.BIAS,
    CheckKind.HEALTH,
}


@dataclass
class Worker:
    """A worker subprocess consuming one queue, and a way to read what its tasks returned."""

    queue: str
    env: dict[str, str]
    log_file: Path
    process: subprocess.Popen | None = field(default=None, repr=False)
    _backend: object = field(default=None, repr=False)
    kills: int = 0

    @property
    def log(self) -> str:
        return self.log_file.read_text(errors="replace")

    @property
    def backend(self):
        from celery.backends.redis import RedisBackend

        if self._backend is None:
            self._backend = RedisBackend(app=app, url=self.env["REDIS_URL"])
        return self._backend

    def queue_length(self) -> int:
        import redis

        return redis.Redis.from_url(self.env["REDIS_URL"]).llen(self.queue)

    def log_tail(self, chars: int = 4000) -> str:
        return f"--- worker log (tail) ---\n{self.log[-chars:]}"

    @property
    def slow_check(self) -> Path:
        """While this file exists, run_checks stops in its fourth check (monitor_worker.py)."""
        return Path(self.env["STEWARD_TEST_SLOW_CHECK"])

    def start(self) -> None:
        """Start the worker (again, after a kill: its log goes on in the same file)."""
        ready_before = self.log.count(" ready.") if self.log_file.exists() else 0
        self.process = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "monitoring.tests.monitor_worker",
                self.queue,
                f"{self.queue}@test",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log_file.open("a"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + READY_TIMEOUT
        while self.log.count(" ready.") <= ready_before:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the worker did not start\n{self.log_tail()}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no clean-up, no acknowledgement, connections cut."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.kills += 1

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def result(self, sent: AsyncResult, timeout: float = TASK_TIMEOUT):
        """What the task returned, once the worker has run it (its exception if it failed)."""
        result = AsyncResult(sent.id, backend=self.backend, app=app)
        try:
            return result.get(timeout=timeout, interval=0.1)
        except Exception as exc:
            raise AssertionError(f"task {sent.id}: {exc!r}\n{self.log_tail()}") from exc
        finally:
            result.forget()

    def wait_for(self, probe, what: str, timeout: float = TASK_TIMEOUT):
        """Poll ``probe`` until it answers something truthy; fail with the worker's log."""
        deadline = time.monotonic() + timeout
        while not (found := probe()):
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} after {timeout}s\n{self.log_tail()}")
            time.sleep(0.1)
        return found


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _reset_producers() -> None:
    """Forget the broker connections and producers made with the previous settings (kombu
    keeps them in a global registry), so the next task sent uses the broker now configured."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """One worker for the module, on a queue of its own (parallel runs do not take each other's
    tasks) in the tests' spare Redis database. The test process sends to the same queue
    instead of running tasks in-process."""
    with django_db_blocker.unblock():
        require_postgres()
        redis_url = require_redis()
        database_url = _database_url()
    queue = f"steward-monitoring-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "STEWARD_OUTBOUND_ALLOWED_HOSTS": "127.0.0.1",
        "STEWARD_DOCUMENTS_AUTO_GENERATE": "false",
    }
    folder = tmp_path_factory.mktemp("monitor-worker")
    env["STEWARD_TEST_SLOW_CHECK"] = str(folder / "slow-check")
    saved = {
        key: app.conf[key] for key in ("task_always_eager", "broker_url", "task_default_queue")
    }
    app.conf.update(task_always_eager=False, broker_url=redis_url, task_default_queue=queue)
    _reset_producers()
    log_file = folder / "worker.log"
    process = Worker(queue=queue, env=env, log_file=log_file)
    try:
        process.start()
        yield process
    finally:
        process.stop()
        import redis

        # Nothing is left for a later run: the queue and kombu's bindings of it.
        bindings = (f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
        redis.Redis.from_url(redis_url).delete(queue, *bindings)
        app.conf.update(**saved)
        _reset_producers()


@pytest.fixture(autouse=True)
def worker_log_on_failure(request, worker):
    """A failed test shows the worker's log (under "Captured stdout teardown")."""
    failed_before = request.session.testsfailed
    yield
    if request.session.testsfailed > failed_before:
        print(worker.log_tail(20000))


@pytest.fixture(autouse=True)
def local_targets_allowed(settings):
    # The worker's environment allows the same host; channels are checked here when created.
    settings.STEWARD_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.DOCUMENTS_AUTO_GENERATE = False


@pytest.fixture
def receiver():
    with LocalReceiver() as receiver:
        yield receiver


@dataclass
class Drifting:
    """A deployment whose logged inputs drifted from its baseline, with a rule on drift that
    sends to a webhook; ``args`` are run_checks' over a window holding the predictions."""

    deployment: object
    channel: object
    args: tuple


@pytest.fixture
def drifting(team, validator, gateway, receiver) -> Drifting:
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
    channel = AlertChannelFactory(
        owner_team=team, name="on-call hook", kind=ChannelKind.WEBHOOK, target=receiver.url
    )
    AlertRuleFactory(
        name="drift",
        deployment=deployment,
        check_kind=CheckKind.DRIFT,
        min_status=CheckStatus.WARNING,
        channels=[channel],
    )
    end = timezone.now()
    args = (deployment.pk, (end - timedelta(hours=24)).isoformat(), end.isoformat())
    return Drifting(deployment=deployment, channel=channel, args=args)


def sent_delivery(worker: Worker) -> AlertDelivery:
    return worker.wait_for(
        lambda: AlertDelivery.objects.filter(status=DeliveryStatus.SENT).first(),
        "delivery sent",
    )


def test_it_runs_the_checks_and_delivers_the_alert_on_a_real_worker(worker, drifting, receiver):
    run_checks.apply_async(drifting.args, queue=worker.queue)

    results = worker.wait_for(
        lambda: len(found := {r.kind: r for r in CheckResult.objects.all()}) == 5 and found,
        "five check results",
    )
    assert set(results) == CHECK_KINDS
    drift = results[CheckKind.DRIFT]
    assert drift.status in (CheckStatus.WARNING, CheckStatus.CRITICAL), drift.summary
    assert drift.details["drifted_features"] == ["income"]
    alert = worker.wait_for(lambda: Alert.objects.first(), "alert")
    assert (alert.rule.name, alert.check_result_id) == ("drift", drift.pk)

    delivery = sent_delivery(worker)
    assert (delivery.alert_id, delivery.channel_id) == (alert.pk, drifting.channel.pk)
    assert (delivery.attempts, delivery.response_code, delivery.error) == (1, 200, "")
    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    signed = headers["X-Steward-Timestamp"].encode() + b"." + body
    secret = drifting.channel.signing_secret.encode()
    expected = hmac.new(secret, signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Steward-Signature"], f"sha256={expected}")
    assert (headers["X-Steward-Event"], headers["X-Steward-Delivery"]) == (
        "alert.opened",
        str(delivery.pk),
    )
    payload = json.loads(body)
    assert (payload["alert"]["id"], payload["check"]["kind"]) == (alert.pk, CheckKind.DRIFT)
    # Queued and sent by the worker, not by this process.
    assert re.search(r"Task monitoring\.deliver_alert\[[-\w]+\] received", worker.log)


def test_a_duplicated_task_stores_opens_and_sends_nothing_twice(worker, drifting, receiver):
    """The same run sent twice (as a redelivered or re-sent message is): the second finds its
    window's results and evaluates no rule, so no second alert and no second delivery."""
    first = run_checks.apply_async(drifting.args, queue=worker.queue)
    second = run_checks.apply_async(drifting.args, queue=worker.queue)

    stored = worker.result(first)
    assert len(stored) == 5
    assert worker.result(second) == stored
    sent_delivery(worker)
    worker.wait_for(lambda: worker.queue_length() == 0, "empty queue")

    assert CheckResult.objects.count() == 5
    alert = Alert.objects.get()
    assert alert.occurrences == 1
    assert AlertDelivery.objects.get().attempts == 1
    assert len(receiver.requests) == 1


def test_a_server_error_is_retried_by_the_worker(worker, drifting, receiver):
    receiver.script[:] = [(500, {}, b"upstream trouble")]
    run_checks.apply_async(drifting.args, queue=worker.queue)

    delivery = sent_delivery(worker)
    assert (delivery.attempts, delivery.response_code, delivery.error) == (2, 200, "")
    assert [r["headers"]["X-Steward-Delivery"] for r in receiver.requests] == [str(delivery.pk)] * 2
    # The retry went through the broker: the worker received the same task twice.
    received = re.findall(r"Task monitoring\.deliver_alert\[([-\w]+)\] received", worker.log)
    assert received[-2:] == [received[-1]] * 2


# --- A worker killed in the middle of a task ---------------------------------------------------


def wait_for_file(path: Path, worker: Worker) -> None:
    worker.wait_for(path.exists, f"{path.name}")


def test_a_worker_killed_in_the_middle_of_the_checks_finishes_them_once_after_restart(
    worker, drifting, receiver
):
    """SIGKILL after three of the five results are stored (the worker sleeps in the bias
    check): the message was not acknowledged, so the restarted worker gets it again. It finds
    the three stored results, computes the two missing ones, and the drift alert, opened with
    the drift result in one transaction, is neither lost nor opened twice."""
    started = Path(f"{worker.slow_check}.started")
    log_start = len(worker.log)
    worker.slow_check.touch()
    try:
        run_checks.apply_async(drifting.args, queue=worker.queue)
        wait_for_file(started, worker)
        stored_before_kill = set(CheckResult.objects.values_list("kind", flat=True))
        worker.kill()
    finally:
        worker.slow_check.unlink()
        started.unlink(missing_ok=True)
    assert stored_before_kill == {
        CheckKind.DRIFT,
        CheckKind.PREDICTION_DRIFT,
        CheckKind.PERFORMANCE,
    }
    worker.start()

    worker.wait_for(lambda: CheckResult.objects.count() == 5, "five check results", timeout=60)
    delivery = sent_delivery(worker)
    worker.wait_for(lambda: worker.queue_length() == 0, "empty queue")
    rows = CheckResult.objects.values_list("deployment", "kind", "window_start", "window_end")
    assert len(set(rows)) == len(rows) == 5
    assert set(CheckResult.objects.values_list("kind", flat=True)) == CHECK_KINDS
    alert = Alert.objects.get()
    assert (alert.rule.name, alert.occurrences) == ("drift", 1)
    assert alert.check_result.kind == CheckKind.DRIFT
    assert (delivery.alert_id, delivery.attempts, delivery.response_code) == (alert.pk, 1, 200)
    assert AlertDelivery.objects.count() == 1
    assert [r["headers"]["X-Steward-Delivery"] for r in receiver.requests] == [str(delivery.pk)]
    # The restarted worker ran the same message again (same task id).
    log = worker.log[log_start:]
    received = re.findall(r"Task monitoring\.run_checks\[([-\w]+)\] received", log)
    assert len(received) == 2 and received[0] == received[1]


def test_a_worker_killed_while_the_receiver_holds_the_delivery_sends_it_once_more(
    worker, drifting, receiver
):
    """SIGKILL while the webhook request is in flight (the receiver got it and holds the
    answer): the worker cannot know whether it arrived, so the restarted worker sends it again,
    with the same ``X-Steward-Delivery``, which is how a receiver drops the duplicate. The row
    ends sent, with both attempts counted; the checks and the alert are not redone."""
    receiver.delay = 60
    run_checks.apply_async(drifting.args, queue=worker.queue)
    worker.wait_for(lambda: len(receiver.requests) == 1, "the webhook request")
    delivery = AlertDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    worker.kill()
    receiver.delay = 0
    worker.start()

    delivery = sent_delivery(worker)
    worker.wait_for(lambda: worker.queue_length() == 0, "empty queue")
    assert (delivery.attempts, delivery.response_code, delivery.error) == (2, 200, "")
    ids = [r["headers"]["X-Steward-Delivery"] for r in receiver.requests]
    assert ids == [str(delivery.pk)] * 2
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"]
    assert AlertDelivery.objects.count() == 1
    assert Alert.objects.get().occurrences == 1
    assert CheckResult.objects.count() == 5
