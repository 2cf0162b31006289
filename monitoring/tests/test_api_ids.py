"""Ids in the monitoring API are validated as ids, on SQLite and on PostgreSQL: a number no
database integer holds (found by fuzzing: SQLite's driver overflowed on it, a 500), zero, a
negative, a boolean or a text is a 400 naming the field, and changes nothing; an id in the URL
that no row can have is a 404."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from monitoring.choices import CheckKind
from monitoring.models import AlertRule
from monitoring.tests.factories import (
    AlertChannelFactory,
    AlertRuleFactory,
    DeploymentFactory,
    KpiFactory,
)
from tests.services import require_postgres

HUGE = 99999999999999999999  # > 2**63 - 1
BAD_IDS = [HUGE, 2**63, 0, -1, True, "seven", 1.5]


@pytest.fixture
def api(administrator) -> APIClient:
    client = APIClient()
    client.force_authenticate(administrator)
    return client


@pytest.fixture
def rule(team):
    channel = AlertChannelFactory(owner_team=team, name="on-call")
    rule = AlertRuleFactory(name="drift watch")
    rule.channels.set([channel])
    return rule


def assert_refused(response, field: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["message"], body
    assert field in body["errors"], body


def patch_channels(api, rule, value):
    return api.patch(f"/api/v1/alert-rules/{rule.pk}/", {"channels": [value]}, format="json")


@pytest.mark.django_db
@pytest.mark.parametrize("value", BAD_IDS)
def test_a_rule_update_with_a_bad_channel_id_is_a_400_and_changes_nothing(api, rule, value):
    assert_refused(patch_channels(api, rule, value), "channels")
    assert [c.name for c in rule.channels.all()] == ["on-call"]


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["kpi", "channels"])
def test_a_rule_created_with_a_huge_id_is_a_400_and_nothing_is_created(api, field):
    deployment = DeploymentFactory(name="credit-prod")
    before = AlertRule.objects.count()
    body = {"name": "kpi watch", "deployment": deployment.name, "check_kind": CheckKind.KPI}
    body[field] = [HUGE] if field == "channels" else HUGE
    assert_refused(api.post("/api/v1/alert-rules/", body, format="json"), field)
    assert AlertRule.objects.count() == before


@pytest.mark.django_db
def test_an_unknown_but_valid_channel_id_is_a_400_too(api, rule):
    response = patch_channels(api, rule, 2**63 - 1)
    assert_refused(response, "channels")
    assert "Unknown channel id." in response.json()["errors"]["channels"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("patch", "/api/v1/alert-rules/{}/"),
        ("get", "/api/v1/alert-rules/{}/"),
        ("patch", "/api/v1/alert-channels/{}/"),
        ("get", "/api/v1/alerts/{}/"),
        ("post", "/api/v1/alerts/{}/acknowledge/"),
        ("get", "/api/v1/kpis/{}/values/"),
    ],
)
def test_a_huge_id_in_the_url_is_a_404(api, rule, method, path):
    KpiFactory()
    response = getattr(api, method)(path.format(HUGE), {}, format="json")
    assert response.status_code == 404, response.content


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("value", [HUGE, 2**63, 0, "seven"])
def test_on_postgresql_a_bad_channel_id_is_a_400_too(api, rule, value):
    require_postgres()
    assert_refused(patch_channels(api, rule, value), "channels")
    assert [c.name for c in rule.channels.all()] == ["on-call"]


@pytest.mark.postgres
@pytest.mark.django_db
def test_on_postgresql_a_huge_id_in_the_url_is_a_404(api, rule):
    require_postgres()
    assert api.patch(f"/api/v1/alert-rules/{HUGE}/", {}, format="json").status_code == 404
    assert api.get(f"/api/v1/alerts/{HUGE}/").status_code == 404
