"""The fan-out of scheduled checks (monitoring.services.check_dispatch): the hourly tick queues
one ``run_checks`` task per active deployment and window, leaves out windows already done or
already queued, queues a failed window again; and the same (deployment, window) run twice,
one after the other or racing, stores one result per kind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from config.celery import app
from core.models import TaskRequest, TaskRequestState
from monitoring import tasks
from monitoring.choices import CheckKind, CheckTrigger
from monitoring.models import CheckResult
from monitoring.services import checks
from monitoring.services.check_dispatch import checks_dispatch
from monitoring.services.deployments import deployment_retire
from monitoring.tests.factories import DeploymentFactory

pytestmark = pytest.mark.django_db
HOUR = timezone.now().replace(minute=0, second=0, microsecond=0)
RUN_KINDS = set(CheckKind) - {CheckKind.KPI}  # what one run of the checks stores


@pytest.fixture(autouse=True)
def eager():
    """Tasks run in-process, whatever the environment says, when their request commits."""
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: HOUR + timedelta(minutes=20))


@pytest.fixture
def fleet(manager):
    """Five active deployments (two window lengths) and a retired one."""
    active = [DeploymentFactory(name=f"fleet-{n}") for n in range(4)]
    active.append(DeploymentFactory(name="fleet-short", check_window_hours=6))
    retired = deployment_retire(
        actor=manager, deployment=DeploymentFactory(name="old"), reason="Replaced for good."
    )
    return active, retired


def requests():
    return TaskRequest.objects.filter(task="monitoring.run_checks").order_by("created_at")


def window(deployment) -> tuple[int, str, str]:
    start = HOUR - timedelta(hours=deployment.check_window_hours)
    return (deployment.pk, start.isoformat(), HOUR.isoformat())


def test_it_queues_one_task_per_active_deployment_and_window(
    fleet, clock, django_capture_on_commit_callbacks
):
    active, retired = fleet
    with django_capture_on_commit_callbacks() as callbacks:
        assert tasks.schedule_checks.apply().get() == len(active)
        # Nothing runs before the commit: five separate requests, each its own Celery task.
        assert [r.state for r in requests()] == [TaskRequestState.PENDING] * len(active)

    assert len(callbacks) == len(active)
    assert len({r.pk for r in requests()}) == len(active)
    assert sorted(tuple(r.args[:3]) for r in requests()) == sorted(window(d) for d in active)
    assert {r.args[3] for r in requests()} == {CheckTrigger.SCHEDULE}
    assert retired.pk not in {r.args[0] for r in requests()}


def test_a_tick_leaves_out_windows_already_queued_or_done(
    fleet, clock, django_capture_on_commit_callbacks
):
    """The first tick's requests are not yet run: a second tick queues nothing. Once they
    have run, a third tick finds every window's results and queues nothing either."""
    active, _ = fleet
    with django_capture_on_commit_callbacks() as first:
        checks_dispatch()
    with django_capture_on_commit_callbacks() as second:
        assert checks_dispatch() == []
    assert second == [] and requests().count() == len(active)

    for publish in first:
        publish()  # in-process: each request runs its checks now
    assert set(requests().values_list("state", flat=True)) == {TaskRequestState.DONE}
    assert CheckResult.objects.count() == len(active) * len(RUN_KINDS)

    with django_capture_on_commit_callbacks() as third:
        assert checks_dispatch() == []
    assert third == [] and requests().count() == len(active)


def test_a_failed_window_is_queued_again_by_the_next_tick(
    fleet, clock, django_capture_on_commit_callbacks
):
    active, _ = fleet
    with django_capture_on_commit_callbacks():
        checks_dispatch()
    lost = requests().get(args__0=active[0].pk)
    TaskRequest.objects.filter(pk=lost.pk).update(state=TaskRequestState.FAILED)

    with django_capture_on_commit_callbacks(execute=True):
        queued = checks_dispatch()

    assert [(pk, s.isoformat(), e.isoformat()) for pk, s, e in queued] == [window(active[0])]
    assert CheckResult.objects.filter(deployment=active[0]).count() == len(RUN_KINDS)
    assert not CheckResult.objects.exclude(deployment=active[0]).exists()


def test_the_same_window_run_twice_stores_one_result_per_kind(fleet):
    deployment = fleet[0][0]
    args = window(deployment)

    first = tasks.run_checks.apply(args).get()
    second = tasks.run_checks.apply(args).get()

    assert second == first and len(first) == len(RUN_KINDS)
    stored = CheckResult.objects.filter(deployment=deployment)
    assert sorted(stored.values_list("kind", flat=True)) == sorted(RUN_KINDS)
    assert {(r.window_start.isoformat(), r.window_end.isoformat()) for r in stored} == {args[1:]}


def test_a_run_racing_another_on_the_same_window_keeps_the_other_s_result(fleet, monkeypatch):
    """Another worker stores the drift result while this one computes it: the unique
    constraint refuses the second row and this run returns the stored one."""
    deployment = fleet[0][0]
    pk, start, end = window(deployment)
    original = checks.drift_outcome
    theirs = {}

    def drift_while_another_worker_stores_it(*args, **kwargs):
        outcome = original(*args, **kwargs)
        if not kwargs.get("outputs") and not theirs:
            theirs["row"] = CheckResult.objects.create(
                deployment=deployment,
                kind=CheckKind.DRIFT,
                window_start=start,
                window_end=end,
                status=outcome.status,
                summary="stored by the other worker",
            )
        return outcome

    monkeypatch.setattr(checks, "drift_outcome", drift_while_another_worker_stores_it)
    stored = tasks.run_checks.apply((pk, start, end)).get()

    assert theirs["row"].pk in stored
    drift = CheckResult.objects.get(deployment=deployment, kind=CheckKind.DRIFT)
    assert (drift.pk, drift.summary) == (theirs["row"].pk, "stored by the other worker")
    assert CheckResult.objects.filter(deployment=deployment).count() == len(RUN_KINDS)
