"""The transactional outbox without a worker: a request commits (or rolls back) with the change
that asked for it; with the broker unreachable it waits as a row, the pages say so, and the
relay sends it once the broker answers. The real Redis outage is test_redis_outage.py's subject."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from celery import shared_task
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from config.celery import app
from core.models import TaskRequest, TaskRequestState
from core.outbox import outbox_relay, outbox_waiting, task_request

pytestmark = pytest.mark.django_db
RAN: list[tuple] = []


@shared_task(name="core.tests.record")
def record(*args) -> None:
    RAN.append(tuple(args))


@shared_task(name="core.tests.explode")
def explode() -> None:
    raise RuntimeError("the task failed (test)")


@pytest.fixture(autouse=True)
def ran():
    RAN.clear()
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield RAN
    app.conf.task_always_eager = saved


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _reset_producers() -> None:
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker_down():
    """A real broker address where nothing listens: publishing fails as it does in an outage."""
    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url")}
    app.conf.update(task_always_eager=False, broker_url=f"redis://127.0.0.1:{_closed_port()}/0")
    _reset_producers()
    yield
    app.conf.update(**saved)
    _reset_producers()


def _age(seconds: float) -> None:
    TaskRequest.objects.update(created_at=timezone.now() - timedelta(seconds=seconds))


def test_it_runs_the_task_after_the_commit_and_marks_the_request_done(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        request = task_request("core.tests.record", 7, "seven")
        assert RAN == []  # nothing runs before the commit

    assert RAN == [(7, "seven")]
    request.refresh_from_db()
    assert request.state == TaskRequestState.DONE and request.finished_at is not None


def test_a_request_rolls_back_with_the_change_that_asked_for_it(
    django_capture_on_commit_callbacks,
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ZeroDivisionError),
        transaction.atomic(),
    ):
        task_request("core.tests.record", 1)
        1 / 0  # noqa: B018 - the change fails after asking for the task

    assert TaskRequest.objects.count() == 0 and RAN == []


def test_a_failing_task_marks_its_request_failed(django_capture_on_commit_callbacks):
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        request = task_request("core.tests.explode")

    request.refresh_from_db()
    assert request.state == TaskRequestState.FAILED


def test_with_the_broker_down_the_request_waits_and_the_relay_sends_it_later(
    broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = task_request("core.tests.record", 1)
        second = task_request("core.tests.record", 2)

    for request in (first, second):
        request.refresh_from_db()
        assert request.state == TaskRequestState.PENDING and request.sent_at is None
    assert first.publish_attempts == second.publish_attempts == 1
    assert "Connection refused" in first.last_error
    assert RAN == []
    assert outbox_relay() == 0  # too fresh for the relay (the commit hook has it)
    _age(60)
    assert outbox_relay() == 0  # still down: nothing sent, nothing lost
    assert TaskRequest.objects.filter(state=TaskRequestState.PENDING).count() == 2

    app.conf.task_always_eager = True  # the broker is back (in-process here)
    assert outbox_relay() == 2
    assert sorted(RAN) == [(1,), (2,)]
    assert set(TaskRequest.objects.values_list("state", flat=True)) == {TaskRequestState.DONE}


def test_a_request_the_broker_lost_is_sent_again_hours_later(settings):
    request = TaskRequest.objects.create(
        task="core.tests.record",
        args=[3],
        state=TaskRequestState.SENT,
        sent_at=timezone.now() - timedelta(minutes=settings.STEWARD_OUTBOX_RESEND_AFTER_MINUTES),
    )
    recent = TaskRequest.objects.create(
        task="core.tests.record", args=[4], state=TaskRequestState.SENT, sent_at=timezone.now()
    )
    _age(60 * 60 * 24)

    assert outbox_relay() == 1
    assert RAN == [(3,)]
    request.refresh_from_db()
    recent.refresh_from_db()
    assert request.state == TaskRequestState.DONE
    assert recent.state == TaskRequestState.SENT  # maybe still running: left alone


def test_pages_say_that_work_is_queued_while_it_waits(client, contributor, broker_down):
    with transaction.atomic():  # what a service does; the test's own transaction stays open
        task_request("core.tests.record", 5)
    client.force_login(contributor)

    assert outbox_waiting() == 0  # just asked: not worth a warning yet
    assert 'data-testid="queued-work"' not in client.get(reverse("account-tokens")).text

    _age(90)
    page = client.get(reverse("account-tokens")).text
    assert outbox_waiting() == 1
    assert "1 background task (documents, checks, alerts)" in page
    assert "Nothing is lost" in page


def test_signed_out_visitors_are_not_told_about_queued_work(client, broker_down):
    TaskRequest.objects.create(task="core.tests.record", args=[6])
    _age(90)
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert 'data-testid="queued-work"' not in response.text


def test_the_relay_command_sends_what_waited_and_says_what_is_left(capsys):
    TaskRequest.objects.create(task="core.tests.record", args=[8])
    _age(60)
    call_command("relay_outbox")
    assert "sent 1 queued task(s); 0 still waiting" in capsys.readouterr().out
    assert RAN == [(8,)]


def test_the_relay_command_says_when_the_broker_is_unreachable(capsys, broker_down):
    TaskRequest.objects.create(task="core.tests.record", args=[9])
    _age(60)
    call_command("relay_outbox")
    captured = capsys.readouterr()
    assert "sent 0 queued task(s); 1 still waiting" in captured.out
    assert "the task queue is unreachable" in captured.err
    assert RAN == []


def test_the_relay_forgets_old_finished_requests_but_keeps_failures(settings):
    old = timezone.now() - timedelta(days=settings.STEWARD_OUTBOX_KEEP_DAYS, minutes=1)
    done = TaskRequest.objects.create(
        task="core.tests.record", state=TaskRequestState.DONE, finished_at=old
    )
    failed = TaskRequest.objects.create(
        task="core.tests.explode", state=TaskRequestState.FAILED, finished_at=old
    )
    recent = TaskRequest.objects.create(
        task="core.tests.record", state=TaskRequestState.DONE, finished_at=timezone.now()
    )

    outbox_relay()

    remaining = set(TaskRequest.objects.values_list("pk", flat=True))
    assert remaining == {failed.pk, recent.pk} and done.pk not in remaining
