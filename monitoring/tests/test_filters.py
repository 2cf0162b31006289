"""One FilterSet per monitoring list (``monitoring.filters``): the deployments API and the
dashboard read the same parameters and keep the same deployments; a bad value is a 400 on both
faces; the alerts API and a deployment's checks and predictions read their filters from their
FilterSets, paged like every other list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from monitoring.choices import AlertState, CheckKind, DeploymentMode, Environment, Severity
from monitoring.models import Alert, Deployment
from monitoring.services.deployments import deployment_retire
from monitoring.tests.factories import (
    AlertRuleFactory,
    CheckResultFactory,
    DeploymentFactory,
    ProductionVersionFactory,
)
from tests.factories import RegisteredModelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(member) -> APIClient:
    client = APIClient()
    client.force_authenticate(member)
    return client


@pytest.fixture
def deployments(team, other_team, manager):
    scorer = ProductionVersionFactory(
        registered_model=RegisteredModelFactory(name="credit-scorer", owner_team=team)
    )
    limits = ProductionVersionFactory(
        registered_model=RegisteredModelFactory(name="limit-setter", owner_team=team)
    )
    foreign = ProductionVersionFactory(
        registered_model=RegisteredModelFactory(name="churn", owner_team=other_team)
    )
    DeploymentFactory(model_version=scorer, name="scorer-prod")
    DeploymentFactory(
        model_version=scorer,
        name="scorer-staging",
        environment=Environment.STAGING,
        mode=DeploymentMode.SHADOW,
    )
    old = DeploymentFactory(model_version=limits, name="limits-old")
    deployment_retire(actor=manager, deployment=old, reason="Replaced by the new limits model.")
    DeploymentFactory(model_version=foreign, name="churn-prod")


def _api_names(api, query: dict) -> set[str]:
    response = api.get("/api/v1/deployments/", query)
    assert response.status_code == 200, response.json()
    return {row["name"] for row in response.json()["results"]}


def _dashboard_names(client, user, query: dict) -> set[str]:
    client.force_login(user)
    response = client.get("/monitoring/", query)
    assert response.status_code == 200
    return {row.deployment.name for row in response.context["rows"]}


@pytest.mark.parametrize(
    "query",
    [
        {"environment": "staging", "retired": "true"},
        {"environment": "production", "retired": "false"},
        {"retired": "true"},
        {"retired": "false"},
    ],
)
def test_the_dashboard_and_the_api_keep_the_same_deployments(
    api, client, member, deployments, query
):
    assert _api_names(api, query) == _dashboard_names(client, member, query)


def test_the_dashboard_shows_active_deployments_unless_asked_and_the_api_all(
    api, client, member, deployments
):
    """The page's box unticked is ``retired=false``; the API lists every status by default."""
    assert _dashboard_names(client, member, {}) == {"scorer-prod", "scorer-staging"}
    assert _api_names(api, {}) == {"scorer-prod", "scorer-staging", "limits-old"}
    assert _dashboard_names(client, member, {"retired": "1"}) == _api_names(api, {})


def test_the_api_filters_deployments_by_model_mode_and_status(api, deployments):
    assert _api_names(api, {"model": "credit-scorer"}) == {"scorer-prod", "scorer-staging"}
    assert _api_names(api, {"mode": "shadow"}) == {"scorer-staging"}
    assert _api_names(api, {"status": "retired"}) == {"limits-old"}
    assert _api_names(api, {"model": "churn"}) == set()  # another team's


def test_an_unknown_environment_is_a_400_on_both_faces(api, client, member):
    body = api.get("/api/v1/deployments/", {"environment": "moon"})
    assert body.status_code == 400
    assert body.json()["errors"]["environment"] == ["Unknown environment 'moon'."]

    client.force_login(member)
    page = client.get("/monitoring/", {"environment": "moon"})
    assert page.status_code == 400
    assert "<code>environment</code>" in page.content.decode()


def test_the_dashboard_filter_bar_is_the_filtersets_form(client, member, deployments):
    client.force_login(member)
    html = client.get("/monitoring/", {"environment": "staging"}).content.decode()

    assert '<option value="staging" selected>' in html
    assert 'data-testid="retired-filter"' in html
    assert 'name="mode"' not in html  # the API's only


def test_the_alerts_api_filters_by_state_severity_and_deployment(api, deployments):
    now = timezone.now()
    for name, severity, state in (
        ("scorer-prod", Severity.CRITICAL, AlertState.OPEN),
        ("scorer-staging", Severity.WARNING, AlertState.RESOLVED),
    ):
        deployment = Deployment.objects.get(name=name)
        Alert.objects.create(  # set-up rows; the app opens alerts through its services
            rule=AlertRuleFactory(deployment=deployment, name=f"{name} drifts"),
            deployment=deployment,
            severity=severity,
            state=state,
            title="Drift",
            opened_at=now,
            last_seen_at=now,
        )

    def deployments_of(query):
        response = api.get("/api/v1/alerts/", query)
        assert response.status_code == 200
        return [row["deployment"] for row in response.json()["results"]]

    assert deployments_of({"deployment": "scorer-prod"}) == ["scorer-prod"]
    assert deployments_of({"severity": "warning"}) == ["scorer-staging"]
    assert deployments_of({"state": "open", "deployment": "scorer-staging"}) == []
    assert api.get("/api/v1/alerts/", {"severity": "dire"}).status_code == 400


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("checks/", {"kind": "nope"}, "kind"),
        ("checks/", {"since": "yesterday"}, "since"),
        ("predictions/", {"until": "soon"}, "until"),
        ("predictions/", {"labelled": "maybe"}, "labelled"),
    ],
)
def test_a_deployments_lists_refuse_a_bad_filter_naming_it(api, deployments, path, query, field):
    response = api.get(f"/api/v1/deployments/scorer-prod/{path}", query)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_the_check_list_filters_by_kind_and_window_end(api, deployments):
    """``until`` a bare date includes that whole day; ``since`` is at or after."""
    prod = Deployment.objects.get(name="scorer-prod")
    day = datetime(2026, 11, 27, tzinfo=UTC)
    CheckResultFactory(deployment=prod, kind=CheckKind.DRIFT, window_end=day + timedelta(hours=23))
    CheckResultFactory(deployment=prod, kind=CheckKind.HEALTH, window_end=day + timedelta(days=1))
    CheckResultFactory(deployment=prod, kind=CheckKind.DRIFT, window_end=day - timedelta(hours=1))

    def kinds(query):
        response = api.get("/api/v1/deployments/scorer-prod/checks/", query)
        assert response.status_code == 200
        return [(r["kind"], r["window_end"][:13]) for r in response.json()["results"]]

    assert kinds({"since": "2026-11-27", "until": "2026-11-27"}) == [("drift", "2026-11-27T23")]
    assert kinds({"kind": "health"}) == [("health", "2026-11-28T00")]
    assert len(kinds({})) == 3  # newest first, paged like every list
    assert kinds({})[0] == ("health", "2026-11-28T00")


def test_the_checks_of_a_deployment_one_may_not_see_are_a_404(api, deployments):
    assert api.get("/api/v1/deployments/churn-prod/checks/").status_code == 404
    assert api.get("/api/v1/deployments/churn-prod/predictions/").status_code == 404


def test_a_retired_value_that_is_not_a_boolean_is_a_400(api, deployments):
    """Found by fuzzing: ``retired=null`` was read as "not given" and answered 200."""
    response = api.get("/api/v1/deployments/", {"retired": "null"})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["retired"]
