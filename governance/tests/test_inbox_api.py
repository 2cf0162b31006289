"""``/api/v1/inbox/``: the same work queue as the inbox page (awaiting my decision apart from
watching, with state, claimed by, sign-offs x of y, waiting since and due), scoped to what the
person may see, with its filters and pages refused with a 400 when malformed."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.choices import RoleName
from accounts.services import role_assign, team_add_member
from governance.choices import Action
from registry.choices import RiskTier
from registry.choices import VersionStatus as S
from tests.factories import ModelVersionFactory, RegisteredModelFactory, UserFactory, version_decide

pytestmark = pytest.mark.django_db
WHY = "Evidence reviewed; the hold-out metrics reproduce."
URL = "/api/v1/inbox/"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def queue(user, **params) -> dict:
    response = api(user).get(URL, params)
    assert response.status_code == 200, response.json()
    return response.json()


def keys(part: dict) -> list[str]:
    return [f"{row['model']}/{row['version']}" for row in part["results"]]


def new(model, contributor, *steps):
    version = ModelVersionFactory(actor=contributor, registered_model=model)
    for actor, action in steps:
        version_decide(actor=actor, version=version, action=action, motivation=WHY)
    version.refresh_from_db()
    return version


@pytest.fixture
def scorer(team, contributor):
    return RegisteredModelFactory(
        actor=contributor, name="credit-scorer", owner_team=team, risk_tier=RiskTier.MEDIUM
    )


@pytest.fixture
def world(scorer, contributor, validator, manager):
    """One version in production, one validated (awaiting approval), one submitted."""
    review = [(contributor, Action.SUBMIT), (validator, Action.CLAIM), (validator, Action.SIGN_OFF)]
    return {
        "production": new(
            scorer, contributor, *review, (manager, Action.APPROVE), (manager, Action.PROMOTE)
        ),
        "validated": new(scorer, contributor, *review),
        "submitted": new(scorer, contributor, review[0]),
    }


def test_it_gives_a_manager_what_awaits_them_and_not_what_is_in_production(world, manager):
    body = queue(manager)
    assert keys(body["awaiting"]) == ["credit-scorer/2"]
    assert body["awaiting"]["count"] == 1
    row = body["awaiting"]["results"][0]
    assert row["state"] == S.VALIDATED
    assert (row["sign_offs"], row["required_sign_offs"]) == (1, 1)
    assert row["claimed_by"] == "vera"
    assert row["next_action"] == Action.APPROVE
    assert row["team"] == "credit-risk"
    assert row["due"] is not None and row["overdue"] is False
    assert row["waiting_since"]
    # Production is watched, never awaiting.
    assert "credit-scorer/1" in keys(body["watching"])
    assert S.PRODUCTION not in {r["state"] for r in body["awaiting"]["results"]}


def test_it_agrees_with_the_inbox_page(client, world, manager, validator, contributor):
    for person in (manager, validator, contributor):
        client.force_login(person)
        page = client.get(reverse("governance:inbox"))
        body = queue(person)
        awaiting = [r.version.natural_key for r in page.context["awaiting_rows"]]
        watching = [r.version.natural_key for r in page.context["watching_rows"]]
        assert keys(body["awaiting"]) == awaiting, person
        assert keys(body["watching"]) == watching, person


def test_a_validator_who_signed_off_no_longer_sees_the_version_awaiting(
    scorer, contributor, validator
):
    role_assign(user=UserFactory(username="walt"), role=RoleName.VALIDATOR)
    limits = RegisteredModelFactory(
        actor=contributor, name="credit-limits", owner_team=scorer.owner_team, risk_tier="high"
    )
    version = new(limits, contributor, (contributor, Action.SUBMIT), (validator, Action.CLAIM))
    assert keys(queue(validator)["awaiting"]) == ["credit-limits/1"]
    version_decide(actor=validator, version=version, action=Action.SIGN_OFF, motivation=WHY)
    version.refresh_from_db()
    assert version.status == S.IN_VALIDATION  # high risk: a second sign-off is still needed
    body = queue(validator)
    assert keys(body["awaiting"]) == []
    assert keys(body["watching"]) == ["credit-limits/1"]
    assert body["watching"]["results"][0]["sign_offs"] == 1
    assert body["watching"]["results"][0]["required_sign_offs"] == 2


def test_another_teams_versions_are_absent(world, contributor, outsider, team, other_team):
    marketing = RegisteredModelFactory(actor=outsider, name="churn", owner_team=other_team)
    new(marketing, outsider)
    team_manager = UserFactory(username="mona")
    team_add_member(team=team, user=team_manager)
    role_assign(user=team_manager, role=RoleName.MANAGER, team=team)
    assert new(marketing, outsider, (outsider, Action.SUBMIT)).status == S.SUBMITTED

    mine = queue(contributor)
    seen = keys(mine["awaiting"]) + keys(mine["watching"])
    assert seen and not [k for k in seen if k.startswith("churn/")]
    theirs = queue(outsider)
    seen = keys(theirs["awaiting"]) + keys(theirs["watching"])
    assert "churn/1" in seen
    assert not [k for k in seen if k.startswith("credit-scorer/")]
    managed = queue(team_manager)
    assert keys(managed["awaiting"]) == ["credit-scorer/2"]
    assert not [k for k in keys(managed["watching"]) if k.startswith("churn/")]


def test_the_filters_and_pages(world, manager, validator, contributor):
    assert keys(queue(manager, state=S.PRODUCTION)["awaiting"]) == []
    assert keys(queue(manager, state=S.PRODUCTION)["watching"]) == ["credit-scorer/1"]
    assert keys(queue(manager, team="marketing")["awaiting"]) == []
    assert keys(queue(manager, team="Credit Risk")["awaiting"]) == ["credit-scorer/2"]
    unclaimed = queue(validator)["awaiting"]["results"]
    assert [(r["state"], r["claimed_by"], r["due"]) for r in unclaimed] == [
        (S.SUBMITTED, None, None)
    ]
    # Carol watches her two versions under review.
    first = queue(contributor, page_size=1)
    assert len(first["watching"]["results"]) == 1
    assert first["watching"]["pages"] == first["watching"]["count"] == 2
    second = queue(contributor, page_size=1, watching_page=2)
    assert len(second["watching"]["results"]) == 1
    assert keys(second["watching"]) != keys(first["watching"])
    assert queue(validator, page=9)["awaiting"] == {
        "count": 1,
        "page": 9,
        "pages": 1,
        "results": [],
    }


@pytest.mark.parametrize(
    "params, field",
    [
        ({"state": "nirvana"}, "state"),
        ({"risk_tier": "extreme"}, "risk_tier"),
        ({"page": "0"}, "page"),
        ({"watching_page": "x"}, "watching_page"),
        ({"page": "99999999999999999999"}, "page"),
        ({"page_size": "0"}, "page_size"),
    ],
)
def test_bad_filters_are_a_400_naming_the_field(world, manager, params, field):
    response = api(manager).get(URL, params)
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()


def test_it_needs_a_signed_in_person(world):
    assert APIClient().get(URL).status_code in (401, 403)


def test_the_schema_documents_the_queue(manager):
    response = api(manager).get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    operation = schema["paths"]["/api/v1/inbox/"]["get"]
    assert "used to answer a flat list" in operation["description"]
    assert {p["name"] for p in operation["parameters"]} >= {
        "state",
        "team",
        "risk_tier",
        "page",
        "watching_page",
        "page_size",
    }
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    queue_schema = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert set(queue_schema["properties"]) == {"awaiting", "watching"}
