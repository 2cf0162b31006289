"""The retention routes of a deployment: an administrator places and releases a legal hold and
sets how many days its predictions are kept, with a reason, through
``POST /api/v1/deployments/{name}/legal-hold/`` and ``.../retention/``; everyone else who may
see the deployment is refused (403), anyone who may not gets a 404, and a bad body is a 400
naming the field."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from accounts.choices import RoleName
from accounts.services import role_assign, token_create
from core.eventlog import audit_chain_verify
from core.models import AuditEvent
from monitoring.models import Deployment, Prediction
from monitoring.partitions import partitions_ensure
from monitoring.services.retention import MAX_RETENTION_DAYS, predictions_retention_apply
from monitoring.tests.test_monitoring_services import live, version  # noqa: F401 - fixtures
from monitoring.tests.test_prediction_partitions import NOW, log, months_ago
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HOLD_REASON = "Litigation 2026-17: keep every prediction of the credit scorer."


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def hold_url(deployment: Deployment) -> str:
    return f"/api/v1/deployments/{deployment.name}/legal-hold/"


def retention_url(deployment: Deployment) -> str:
    return f"/api/v1/deployments/{deployment.name}/retention/"


def chain_head() -> int:
    return AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first()


@pytest.fixture
def team_manager(team):
    """Tess manages Credit Risk (a team role): she deploys its models, she sets no holds."""
    user = UserFactory(username="tess")
    role_assign(user=user, role=RoleName.MANAGER, team=team)
    return user


@pytest.fixture
def global_retention(settings):
    settings.STEWARD_PREDICTION_RETENTION_DAYS = 90


# --- the administrator's story -----------------------------------------------------------------


def test_it_places_a_legal_hold_that_retention_respects_and_releases_it(
    live,  # noqa: F811 - the fixture
    administrator,
    global_retention,
):
    log(live, [months_ago(6), months_ago(6) + timedelta(hours=1), NOW - timedelta(hours=1)])
    client = client_for(administrator)

    response = client.post(hold_url(live), {"hold": True, "reason": HOLD_REASON}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["deployment"] == live.name
    assert (body["legal_hold"], body["legal_hold_by"]) == (True, administrator.username)
    assert body["legal_hold_reason"] == HOLD_REASON and body["legal_hold_at"]
    assert (body["retention_days"], body["effective_retention_days"]) == (None, 90)
    event = AuditEvent.objects.get(action="deployment.legal_hold")
    assert event.actor == administrator
    assert (event.subject_id, event.data["reason"]) == (str(live.pk), HOLD_REASON)
    detail = client.get(f"/api/v1/deployments/{live.name}/").json()
    assert (detail["legal_hold"], detail["retention_days"]) == (True, None)

    partitions_ensure()
    outcome = predictions_retention_apply()
    assert outcome.rows_removed == 0
    assert Prediction.objects.filter(deployment=live).count() == 3

    response = client.post(hold_url(live), {"hold": False, "reason": "Case closed."}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["legal_hold"] is False
    release = AuditEvent.objects.get(action="deployment.legal_hold_release")
    assert release.data["reason"] == "Case closed."
    assert release.data["previous"]["reason"] == HOLD_REASON
    outcome = predictions_retention_apply()
    assert outcome.rows_removed == 2  # the two of six months ago; the recent one stays
    left = Prediction.objects.filter(deployment=live).values_list("predicted_at", flat=True)
    assert list(left) == [NOW - timedelta(hours=1)]
    assert audit_chain_verify().ok


def test_it_sets_a_deployments_retention_and_back_to_the_global_default(
    live,  # noqa: F811 - the fixture
    administrator,
    global_retention,
):
    client = client_for(administrator)

    response = client.post(
        retention_url(live), {"retention_days": 365, "reason": "Regulator: a year."}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["retention_days"], body["effective_retention_days"]) == (365, 365)
    assert (body["global_retention_days"], body["legal_hold"]) == (90, False)
    live.refresh_from_db()
    assert live.retention_days == 365
    event = AuditEvent.objects.get(action="deployment.retention_set")
    assert event.data == {
        "deployment": live.name,
        "retention_days": 365,
        "previous": None,
        "reason": "Regulator: a year.",
    }
    assert client.get(f"/api/v1/deployments/{live.name}/").json()["retention_days"] == 365

    response = client.post(
        retention_url(live), {"retention_days": None, "reason": "Back to policy."}, format="json"
    )

    assert response.status_code == 200, response.content
    assert (response.json()["retention_days"], response.json()["effective_retention_days"]) == (
        None,
        90,
    )
    assert AuditEvent.objects.filter(action="deployment.retention_set").count() == 2


def test_a_retention_set_through_the_api_is_what_retention_applies(
    live,  # noqa: F811 - the fixture
    administrator,
):
    """Without a global retention the deployment keeps everything, until an administrator
    gives it 30 days: then the rows of three months ago go (a partition of its own on
    PostgreSQL, whole months before the cutoff), the recent one stays."""
    log(live, [months_ago(3), NOW - timedelta(hours=1)])
    partitions_ensure()
    assert predictions_retention_apply().rows_removed == 0
    response = client_for(administrator).post(
        retention_url(live), {"retention_days": 30, "reason": "Minimise data."}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["effective_retention_days"] == 30

    outcome = predictions_retention_apply()

    assert outcome.rows_removed == 1
    left = Prediction.objects.filter(deployment=live).values_list("predicted_at", flat=True)
    assert list(left) == [NOW - timedelta(hours=1)]


def test_a_hold_placed_twice_is_a_conflict_and_releasing_none_too(
    live,  # noqa: F811 - the fixture
    administrator,
):
    client = client_for(administrator)
    release = client.post(hold_url(live), {"hold": False, "reason": "Nothing."}, format="json")
    assert release.status_code == 409
    assert "not under legal hold" in release.json()["message"]
    assert client.post(hold_url(live), {"hold": True, "reason": "A"}, format="json").status_code
    head = chain_head()

    again = client.post(hold_url(live), {"hold": True, "reason": "B"}, format="json")

    assert again.status_code == 409
    assert "already under legal hold" in again.json()["message"]
    assert chain_head() == head
    live.refresh_from_db()
    assert live.legal_hold_reason == "A"


def test_an_administrators_token_needs_the_write_scope(
    live,  # noqa: F811 - the fixture
    administrator,
):
    _, read_only = token_create(actor=administrator, name="reader", scopes=["read"])
    _, writer = token_create(actor=administrator, name="admin", scopes=["read", "write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {read_only}")
    head = chain_head()

    refused = client.post(hold_url(live), {"hold": True, "reason": "x"}, format="json")
    refused_days = client.post(
        retention_url(live), {"retention_days": 5, "reason": "x"}, format="json"
    )

    assert (refused.status_code, refused_days.status_code) == (403, 403)
    assert "'write' scope" in refused.json()["message"]
    live.refresh_from_db()
    assert (live.legal_hold, live.retention_days) == (False, None)
    assert set(AuditEvent.objects.filter(sequence__gt=head).values_list("action", flat=True)) <= {
        "token.success"
    }
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {writer}")
    allowed = client.post(hold_url(live), {"hold": True, "reason": "Court order."}, format="json")
    assert allowed.status_code == 200, allowed.content


# --- who is refused ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona", ["contributor", "member", "validator", "auditor", "manager", "team_manager"]
)
@pytest.mark.parametrize(
    ("route", "body"),
    [
        (hold_url, {"hold": True, "reason": "Mine to hold."}),
        (retention_url, {"retention_days": 1, "reason": "Mine to shorten."}),
    ],
)
def test_anyone_but_an_administrator_who_sees_the_deployment_is_refused(
    request,
    live,  # noqa: F811 - the fixture
    persona,
    route,
    body,
):
    user = request.getfixturevalue(persona)
    client = client_for(user)
    assert client.get(f"/api/v1/deployments/{live.name}/").status_code == 200  # they see it
    head = chain_head()

    response = client.post(route(live), body, format="json")

    assert response.status_code == 403, response.content
    assert response.json()["message"] == (
        "Only a platform administrator sets retention and legal holds."
    )
    live.refresh_from_db()
    assert (live.legal_hold, live.retention_days) == (False, None)
    assert chain_head() == head


@pytest.mark.parametrize("route", [hold_url, retention_url])
def test_another_teams_user_does_not_learn_the_deployment_exists(
    live,  # noqa: F811 - the fixture
    outsider,
    route,
):
    body = {"hold": True, "retention_days": 1, "reason": "Curious."}
    response = client_for(outsider).post(route(live), body, format="json")
    assert response.status_code == 404
    unknown = client_for(outsider).post(
        route(Deployment(name="no-such-deployment")), body, format="json"
    )
    assert unknown.status_code == 404
    assert response.json() == unknown.json()


@pytest.mark.parametrize("route", [hold_url, retention_url])
def test_an_anonymous_caller_is_refused(live, route):  # noqa: F811 - the fixture
    response = client_for(None).post(
        route(live), {"hold": True, "retention_days": 1, "reason": "x"}, format="json"
    )
    assert response.status_code in (401, 403)
    live.refresh_from_db()
    assert (live.legal_hold, live.retention_days) == (False, None)


# --- bad bodies --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"hold": True}, "reason"),
        ({"hold": True, "reason": ""}, "reason"),
        ({"hold": True, "reason": "   "}, "reason"),
        ({"hold": True, "reason": "x" * 5001}, "reason"),
        ({"reason": "Why not."}, "hold"),
        ({"hold": "true", "reason": "Why not."}, "hold"),
        ({"hold": 1, "reason": "Why not."}, "hold"),
        ({"hold": None, "reason": "Why not."}, "hold"),
        ({"hold": "yes", "reason": "Why not."}, "hold"),
    ],
)
def test_a_bad_legal_hold_body_is_a_400_naming_the_field(
    live,  # noqa: F811 - the fixture
    administrator,
    body,
    field,
):
    head = chain_head()
    response = client_for(administrator).post(hold_url(live), body, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == [field]
    live.refresh_from_db()
    assert live.legal_hold is False
    assert chain_head() == head


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"retention_days": 0, "reason": "x"}, "retention_days"),
        ({"retention_days": -1, "reason": "x"}, "retention_days"),
        ({"retention_days": MAX_RETENTION_DAYS + 1, "reason": "x"}, "retention_days"),
        ({"retention_days": 2**70, "reason": "x"}, "retention_days"),
        ({"retention_days": "abc", "reason": "x"}, "retention_days"),
        ({"retention_days": "30", "reason": "x"}, "retention_days"),
        ({"retention_days": 30.5, "reason": "x"}, "retention_days"),
        ({"retention_days": True, "reason": "x"}, "retention_days"),
        ({"retention_days": [30], "reason": "x"}, "retention_days"),
        ({"reason": "x"}, "retention_days"),
        ({"retention_days": 30}, "reason"),
        ({"retention_days": 30, "reason": " "}, "reason"),
    ],
)
def test_a_bad_retention_body_is_a_400_naming_the_field(
    live,  # noqa: F811 - the fixture
    administrator,
    body,
    field,
):
    head = chain_head()
    response = client_for(administrator).post(retention_url(live), body, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == [field]
    live.refresh_from_db()
    assert live.retention_days is None
    assert chain_head() == head


@pytest.mark.parametrize("body", [[1, 2], "hold", 7, None])
def test_a_body_that_is_not_an_object_is_a_400(
    live,  # noqa: F811 - the fixture
    administrator,
    body,
):
    for url in (hold_url(live), retention_url(live)):
        response = client_for(administrator).post(url, body, format="json")
        assert response.status_code == 400, (url, response.content)
