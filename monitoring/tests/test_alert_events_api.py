"""``GET /api/v1/alerts/{id}/events/``: an alert's life as rows (opened, recurred,
acknowledged, resolved), oldest first and paged, for whoever may see the alert; for anyone else
the alert does not exist (404), as on its page."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from monitoring.choices import AlertEventKind, CheckKind, CheckStatus, Severity
from monitoring.services.alerts import alert_acknowledge, alert_resolve, alerts_evaluate_check
from monitoring.tests.factories import (
    AlertRuleFactory,
    CheckResultFactory,
    DeploymentFactory,
    ProductionVersionFactory,
)
from tests.factories import RegisteredModelFactory

pytestmark = pytest.mark.django_db

HUGE = 99999999999999999999  # > 2**63 - 1


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def alert(team, manager):
    """An alert of a Credit Risk deployment that opened, recurred once, was acknowledged and
    resolved: four events."""
    model = RegisteredModelFactory(name="credit-scorer", owner_team=team)
    deployment = DeploymentFactory(
        model_version=ProductionVersionFactory(registered_model=model), name="scorer-prod"
    )
    AlertRuleFactory(
        deployment=deployment,
        name="scorer drifts",
        check_kind=CheckKind.DRIFT,
        min_status=CheckStatus.WARNING,
        severity=Severity.WARNING,
    )
    for _ in range(2):
        drifting = CheckResultFactory(
            deployment=deployment, kind=CheckKind.DRIFT, status=CheckStatus.WARNING
        )
        (opened,) = alerts_evaluate_check(drifting)
    alert_acknowledge(actor=manager, alert=opened, note="Looking into it.")
    return alert_resolve(actor=manager, alert=opened, note="Upstream feed fixed.")


def test_it_lists_an_alerts_events_oldest_first(alert, member):
    response = client_for(member).get(f"/api/v1/alerts/{alert.pk}/events/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    assert [e["kind"] for e in body["results"]] == [
        AlertEventKind.OPENED,
        AlertEventKind.RECURRED,
        AlertEventKind.ACKNOWLEDGED,
        AlertEventKind.RESOLVED,
    ]
    assert [e["by"] for e in body["results"]] == [None, None, "max", "max"]
    assert body["results"][3]["detail"] == "Upstream feed fixed."


def test_it_pages_the_events(alert, member):
    body = client_for(member).get(f"/api/v1/alerts/{alert.pk}/events/?page_size=3&page=2").json()

    assert body["count"] == 4
    assert [e["kind"] for e in body["results"]] == [AlertEventKind.RESOLVED]


def test_a_member_of_another_team_gets_a_404(alert, outsider):
    response = client_for(outsider).get(f"/api/v1/alerts/{alert.pk}/events/")

    assert response.status_code == 404
    assert "events" not in response.content.decode()


@pytest.mark.parametrize("pk", [HUGE, 0, 123456])
def test_an_alert_that_no_row_can_be_is_a_404(member, pk):
    assert client_for(member).get(f"/api/v1/alerts/{pk}/events/").status_code == 404


def test_it_needs_a_login(alert):
    assert APIClient().get(f"/api/v1/alerts/{alert.pk}/events/").status_code in (401, 403)
