"""An alert's life kept as rows: each opening, recurrence, acknowledgement and resolution is one
``AlertEvent``, written with the alert change and its audit event; refusals write none. The
alert page and the admin show them; the migration rebuilt them from the old counters."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from core.errors import Conflict, Forbidden, NotFound
from core.models import AuditEvent
from monitoring.choices import AlertEventKind, AlertState, CheckKind, CheckStatus
from monitoring.models import Alert, AlertEvent
from monitoring.selectors import alert_history
from monitoring.services.alerts.evaluation import alerts_evaluate_check
from monitoring.services.alerts.lifecycle import alert_acknowledge, alert_resolve
from monitoring.services.deployments import deployment_retire
from monitoring.tests.factories import (
    AlertRuleFactory,
    CheckResultFactory,
    DeploymentFactory,
    ProductionVersionFactory,
)
from monitoring.tests.test_alerts import concurrently
from tests.factories import RegisteredModelFactory, UserFactory
from tests.services import require_postgres

pytestmark = pytest.mark.django_db
OPENED, RECURRED, ACKNOWLEDGED, RESOLVED = (
    AlertEventKind.OPENED,
    AlertEventKind.RECURRED,
    AlertEventKind.ACKNOWLEDGED,
    AlertEventKind.RESOLVED,
)


@pytest.fixture
def deployment(team):
    model = RegisteredModelFactory(owner_team=team, name="credit-scoring")
    return DeploymentFactory(
        name="credit-prod", model_version=ProductionVersionFactory(registered_model=model)
    )


@pytest.fixture
def rule(deployment):
    return AlertRuleFactory(name="drift critical", deployment=deployment)


def check(deployment, status):
    result = CheckResultFactory(deployment=deployment, kind=CheckKind.DRIFT, status=status)
    return result, alerts_evaluate_check(result)


def life(alert) -> list[tuple[str, str | None, str]]:
    events = AlertEvent.objects.filter(alert=alert).order_by("at", "id")
    return [(e.kind, e.by.username if e.by else None, e.detail) for e in events]


@pytest.fixture
def alert(rule, deployment):
    return check(deployment, CheckStatus.CRITICAL)[1][0]


def test_it_records_each_occurrence_as_a_row_beside_the_counter(rule, deployment):
    first, (alert,) = check(deployment, CheckStatus.CRITICAL)
    second, _ = check(deployment, CheckStatus.CRITICAL)
    third, _ = check(deployment, CheckStatus.WARNING)  # below the rule: clears it

    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED
    kinds = [kind for kind, _, _ in life(alert)]
    assert kinds == [OPENED, RECURRED, RESOLVED]
    assert kinds.count(OPENED) + kinds.count(RECURRED) == alert.occurrences == 2
    details = [detail for _, _, detail in life(alert)]
    assert details[0].startswith(f"check #{first.pk} ")
    assert details[1].startswith(f"check #{second.pk} ")
    assert f"check #{third.pk} " in details[2]
    assert all(by is None for _, by, _ in life(alert))  # monitoring itself, no person


def test_an_unknown_result_writes_no_event(alert, deployment):
    check(deployment, CheckStatus.UNKNOWN)
    assert [kind for kind, _, _ in life(alert)] == [OPENED]


def test_people_acknowledge_and_resolve_and_each_is_a_row_and_an_audit_event(alert, manager):
    alert_acknowledge(actor=manager, alert=alert, note="Looking into the feed.")
    alert_resolve(actor=manager, alert=alert, note="Feed fixed.")

    assert life(alert) == [
        (OPENED, None, life(alert)[0][2]),
        (ACKNOWLEDGED, "max", "Looking into the feed."),
        (RESOLVED, "max", "Feed fixed."),
    ]
    alert.refresh_from_db()
    ack, resolved = AlertEvent.objects.filter(alert=alert, kind__in=[ACKNOWLEDGED, RESOLVED])
    assert (ack.at, resolved.at) == (alert.acknowledged_at, alert.resolved_at)
    audited = AuditEvent.objects.filter(action__startswith="alert.", subject_id=str(alert.pk))
    assert sorted(audited.values_list("action", flat=True)) == [
        "alert.acknowledge",
        "alert.open",
        "alert.resolve",
    ]


def test_a_refused_or_conflicting_action_writes_no_row(alert, manager, contributor, outsider):
    with pytest.raises(Forbidden):
        alert_acknowledge(actor=contributor, alert=alert, note="")
    with pytest.raises(NotFound):
        alert_resolve(actor=outsider, alert=alert, note="Done.")
    alert_resolve(actor=manager, alert=alert, note="Fixed.")
    with pytest.raises(Conflict):
        alert_acknowledge(actor=manager, alert=alert, note="Too late.")

    assert [kind for kind, _, _ in life(alert)] == [OPENED, RESOLVED]
    assert not AuditEvent.objects.filter(action="alert.acknowledge").exists()


def test_retiring_the_deployment_resolves_its_alert_with_a_row(alert, deployment, manager):
    deployment_retire(actor=manager, deployment=deployment, reason="Replaced by v2.")
    assert life(alert)[-1] == (RESOLVED, "max", "Deployment retired: Replaced by v2.")


# --- Read back: the page's history, the admin --------------------------------------------------


def test_the_history_folds_recurrences_in_a_row_into_one_entry(alert, deployment, manager):
    for _ in range(3):
        check(deployment, CheckStatus.CRITICAL)
    alert_acknowledge(actor=manager, alert=alert, note="On it.")
    check(deployment, CheckStatus.CRITICAL)

    entries = alert_history(alert)
    assert [(e.label, e.count) for e in entries] == [
        ("Opened", 1),
        ("Recurred 3 times", 3),
        ("Acknowledged", 1),
        ("Recurred", 1),
    ]
    recurred = AlertEvent.objects.filter(alert=alert, kind=RECURRED).order_by("at", "id")
    assert (entries[1].at, entries[1].until) == (recurred[0].at, recurred[2].at)
    assert entries[1].detail == recurred[2].detail


def test_the_alert_page_lists_the_history(client, alert, deployment, manager, member):
    check(deployment, CheckStatus.CRITICAL)
    alert_acknowledge(actor=manager, alert=alert, note="On it.")
    client.force_login(member)

    html = client.get(reverse("monitoring:alert-detail", args=[alert.pk])).content.decode()

    assert 'data-testid="alert-history"' in html
    assert html.count('data-testid="alert-event"') == 3
    assert 'data-kind="acknowledged"' in html and "by max" in html and "On it." in html


def test_the_admin_shows_the_events_read_only(client, alert):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:monitoring_alert_change", args=[alert.pk]))
    assert page.status_code == 200
    inline = next(f for f in page.context["inline_admin_formsets"] if f.opts.model is AlertEvent)
    assert len(inline.formset.forms) == 1
    assert not inline.has_add_permission and not inline.has_change_permission


# --- The migration's backfill -------------------------------------------------------------------


def test_the_migration_rebuilds_the_life_of_an_alert_from_its_counters(alert, manager):
    events_of = importlib.import_module("monitoring.migrations.0004_alert_events").events_of
    now = timezone.now()
    Alert.objects.filter(pk=alert.pk).update(
        occurrences=4,
        last_seen_at=now,
        acknowledged_by=manager,
        acknowledged_at=now,
        acknowledgement_note="On it.",
        resolved_at=now,
        resolution_note="Condition cleared.",
        state=AlertState.RESOLVED,
    )
    alert.refresh_from_db()

    rows = events_of(alert, AlertEvent)

    assert [(r.kind, r.by_id, r.at) for r in rows] == [
        (OPENED, None, alert.opened_at),
        (RECURRED, None, now),
        (ACKNOWLEDGED, manager.pk, now),
        (RESOLVED, None, now),
    ]
    assert rows[0].detail == f"check #{alert.check_result_id} (drift critical)"
    assert rows[1].detail.startswith("3 occurrences up to this time")
    assert rows[3].detail == "Condition cleared."


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_migration_backfills_the_rows_of_existing_alerts(alert, deployment, manager):
    require_postgres()
    check(deployment, CheckStatus.CRITICAL)
    alert_acknowledge(actor=manager, alert=alert, note="On it.")
    executor = MigrationExecutor(connection)
    executor.migrate([("monitoring", "0003_prediction_partitions_retention_legal_hold")])
    executor = MigrationExecutor(connection)  # forward again, as the migration runs on upgrade
    executor.migrate(executor.loader.graph.leaf_nodes("monitoring"))
    assert [(kind, by) for kind, by, _ in life(alert)] == [
        (OPENED, None),
        (RECURRED, None),
        (ACKNOWLEDGED, "max"),
    ]
    assert life(alert)[1][2].startswith("1 occurrence up to this time")


# --- At the same time, on PostgreSQL -----------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_results_evaluated_at_once_leave_one_opening_and_the_rest_as_recurrences(rule, deployment):
    require_postgres()
    results = [
        CheckResultFactory(deployment=deployment, status=CheckStatus.CRITICAL) for _ in range(5)
    ]
    outcomes = concurrently(5, lambda n: len(alerts_evaluate_check(results[n])))
    assert outcomes == [1] * 5, outcomes
    kinds = list(AlertEvent.objects.values_list("kind", flat=True))
    assert sorted(kinds) == [OPENED] + [RECURRED] * 4
