"""Monitoring's Celery tasks in-process (eager, no worker): what the hourly tick queues, that a
repeated tick adds nothing, that an on-demand run is queued only on commit, and that beat's
schedule names a task the app knows. The real worker is ``test_worker.py``'s subject."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from config.celery import app
from core.errors import Conflict
from core.models import TaskRequest, TaskRequestState
from monitoring import tasks
from monitoring.choices import CheckKind, CheckTrigger
from monitoring.models import CheckResult
from monitoring.services.checks import checks_request
from monitoring.services.deployments import deployment_retire
from monitoring.tests.factories import DeploymentFactory

pytestmark = pytest.mark.django_db
HOUR = timezone.now().replace(minute=0, second=0, microsecond=0)
KINDS = len(CheckKind) - 1  # every kind but KPI is a check result of each run


class Recorder:
    """What was asked of ``run_checks`` through the outbox, and whether it was sent."""

    @property
    def requests(self):
        return TaskRequest.objects.filter(task="monitoring.run_checks").order_by("created_at")

    @property
    def calls(self) -> list[tuple]:
        return [tuple(request.args) for request in self.requests]


@pytest.fixture(autouse=True)
def eager():
    """Run tasks in-process whatever REDIS_URL says, as the suite does without it."""
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


@pytest.fixture
def queued() -> Recorder:
    return Recorder()


@pytest.fixture
def clock(monkeypatch):
    """Set what ``timezone.now()`` answers."""

    def set_now(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_now


@pytest.fixture
def deployments(manager):
    """Two active deployments with different windows, and a retired one."""
    daily = DeploymentFactory(name="daily")
    hourly = DeploymentFactory(name="hourly", check_window_hours=6)
    retired = deployment_retire(
        actor=manager, deployment=DeploymentFactory(name="retired"), reason="Replaced for good."
    )
    return daily, hourly, retired


def test_it_queues_the_checks_of_every_active_deployment_over_its_window(
    deployments, queued, clock
):
    daily, hourly, _retired = deployments
    clock(HOUR + timedelta(minutes=37, seconds=12, microseconds=345))

    assert tasks.schedule_checks.delay().get() == 2

    schedule = CheckTrigger.SCHEDULE
    assert sorted(queued.calls) == sorted(
        [
            (daily.pk, (HOUR - timedelta(hours=24)).isoformat(), HOUR.isoformat(), schedule),
            (hourly.pk, (HOUR - timedelta(hours=6)).isoformat(), HOUR.isoformat(), schedule),
        ]
    )


def test_a_second_tick_within_the_hour_adds_no_results(
    deployments, clock, django_capture_on_commit_callbacks
):
    """Windows end on the whole hour, so a tick at :05 and one at :55 ask for the same windows
    and the second finds them done; the next hour's tick is a new window."""
    daily, hourly, retired = deployments
    clock(HOUR + timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        tasks.schedule_checks.delay()
    first = set(CheckResult.objects.values_list("pk", flat=True))

    clock(HOUR + timedelta(minutes=55))
    with django_capture_on_commit_callbacks(execute=True):
        tasks.schedule_checks.delay()

    assert set(CheckResult.objects.values_list("pk", flat=True)) == first
    assert len(first) == 2 * KINDS
    assert set(CheckResult.objects.values_list("window_end", flat=True)) == {HOUR}
    assert not CheckResult.objects.filter(deployment=retired).exists()

    clock(HOUR + timedelta(hours=1, minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        tasks.schedule_checks.delay()
    assert CheckResult.objects.count() == 4 * KINDS


def test_an_on_demand_run_is_queued_when_the_request_commits(
    manager, queued, django_capture_on_commit_callbacks
):
    deployment = DeploymentFactory(check_window_hours=12)
    with django_capture_on_commit_callbacks() as callbacks:
        end = checks_request(actor=manager, deployment=deployment)
        # Written with the transaction, not sent before the commit: a worker could not see it.
        assert [r.state for r in queued.requests] == [TaskRequestState.PENDING]

    assert len(callbacks) == 1
    start = end - timedelta(hours=12)
    assert queued.calls == [
        (deployment.pk, start.isoformat(), end.isoformat(), CheckTrigger.ON_DEMAND, manager.pk)
    ]
    callbacks[0]()
    assert [r.state for r in queued.requests] == [TaskRequestState.DONE]
    assert CheckResult.objects.filter(deployment=deployment).count() == KINDS


def test_an_on_demand_run_records_its_trigger_and_requester(
    manager, django_capture_on_commit_callbacks
):
    deployment = DeploymentFactory()
    with django_capture_on_commit_callbacks(execute=True):
        end = checks_request(actor=manager, deployment=deployment)

    results = CheckResult.objects.filter(deployment=deployment)
    assert results.count() == KINDS
    assert {(r.trigger, r.requested_by, r.window_end) for r in results} == {
        (CheckTrigger.ON_DEMAND, manager, end)
    }


def test_a_retired_deployment_cannot_be_checked_on_demand(
    deployments, manager, queued, django_capture_on_commit_callbacks
):
    *_, retired = deployments
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Conflict):
        checks_request(actor=manager, deployment=retired)
    assert callbacks == [] and queued.calls == []


def test_beat_schedules_the_checks_with_a_task_the_app_knows():
    app.loader.import_default_modules()  # what a worker and beat do at start
    entries = settings.CELERY_BEAT_SCHEDULE.values()
    assert "monitoring.schedule_checks" in {entry["task"] for entry in entries}
    assert app.conf.beat_schedule == settings.CELERY_BEAT_SCHEDULE
    for entry in entries:
        assert entry["task"] in app.tasks, f"beat would send an unknown task {entry['task']}"
    for name in ("monitoring.schedule_checks", "monitoring.run_checks", "monitoring.deliver_alert"):
        assert app.tasks[name].name == name
