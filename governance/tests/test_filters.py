"""The work queue's one FilterSet (governance.filters.QueueFilter): the inbox page and
``/api/v1/inbox/`` read the same parameters (state, team, risk_tier), give the same rows for the
same filter, and refuse the same bad values with a 400 that names the field, never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from governance.choices import Action
from registry.choices import RiskTier
from registry.choices import VersionStatus as S
from tests.factories import ModelVersionFactory, RegisteredModelFactory, TeamFactory, version_decide

pytestmark = pytest.mark.django_db
WHY = "Evidence reviewed; the hold-out metrics reproduce."
URL = "/api/v1/inbox/"


def new(model, contributor, *steps):
    version = ModelVersionFactory(actor=contributor, registered_model=model)
    for actor, action in steps:
        version_decide(actor=actor, version=version, action=action, motivation=WHY)
    return version


@pytest.fixture
def world(team, contributor, validator, manager):
    """Versions of a medium- and a high-risk model of one team, in several states."""
    scorer = RegisteredModelFactory(
        actor=contributor, name="credit-scorer", owner_team=team, risk_tier=RiskTier.MEDIUM
    )
    limits = RegisteredModelFactory(
        actor=contributor, name="credit-limits", owner_team=team, risk_tier=RiskTier.HIGH
    )
    review = [(contributor, Action.SUBMIT), (validator, Action.CLAIM), (validator, Action.SIGN_OFF)]
    new(scorer, contributor, *review, (manager, Action.APPROVE), (manager, Action.PROMOTE))
    new(scorer, contributor, *review)
    new(scorer, contributor, review[0])
    new(limits, contributor, review[0])
    new(limits, contributor, review[0], review[1])
    return {"team": team}


def both_faces(client, user, params):
    """(awaiting, watching) as the page shows them and as the API answers them."""
    client.force_login(user)
    page = client.get(reverse("governance:inbox"), params)
    assert page.status_code == 200
    from_page = tuple(
        [row.version.natural_key for row in page.context[part]]
        for part in ("awaiting_rows", "watching_rows")
    )
    api = APIClient()
    api.force_authenticate(user)
    body = api.get(URL, params)
    assert body.status_code == 200, body.json()
    from_api = tuple(
        [f"{row['model']}/{row['version']}" for row in body.json()[part]["results"]]
        for part in ("awaiting", "watching")
    )
    return from_page, from_api


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"state": S.SUBMITTED},
        {"state": S.PRODUCTION},
        {"risk_tier": RiskTier.HIGH},
        {"risk_tier": RiskTier.MEDIUM, "state": S.VALIDATED},
        {"team": "credit-risk"},
        {"team": "CREDIT RISK"},  # a team's name, any case
        {"team": "marketing"},
    ],
)
def test_the_page_and_the_api_give_the_same_rows(client, world, manager, validator, params):
    for person in (manager, validator):
        from_page, from_api = both_faces(client, person, params)
        assert from_page == from_api, (person, params)


def test_the_filters_narrow_as_they_say(client, world, validator):
    (awaiting, watching), _ = both_faces(client, validator, {"risk_tier": RiskTier.HIGH})
    assert awaiting and all(key.startswith("credit-limits/") for key in awaiting + watching)
    (awaiting, watching), _ = both_faces(client, validator, {"team": "nobody-s-team"})
    assert awaiting == watching == []


@pytest.mark.parametrize(
    "params, field",
    [
        ({"state": "nirvana"}, "state"),
        ({"risk_tier": "<script>"}, "risk_tier"),
        ({"team": "x" * 201}, "team"),
        ({"team": "credit\x07risk"}, "team"),
    ],
)
def test_a_bad_value_is_a_400_naming_the_field_on_both_faces(client, world, manager, params, field):
    api = APIClient()
    api.force_authenticate(manager)
    response = api.get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert field in body["errors"] and body["errors"][field][0], body

    client.force_login(manager)
    page = client.get(reverse("governance:inbox"), params)
    assert page.status_code == 400
    html = page.content.decode()
    assert f"<code>{field}</code>" in html
    assert "<script>" not in html.split("<main", 1)[-1]


def test_the_page_renders_the_shared_filter_bar_with_the_teams_one_may_see(client, world, manager):
    TeamFactory(name="Hidden team", slug="hidden-team")  # owns no model: not offered
    client.force_login(manager)
    html = client.get(reverse("governance:inbox"), {"state": S.VALIDATED}).content.decode()
    bar = html.split('data-testid="queue-filters"', 1)[1].split("</form>", 1)[0]
    assert 'name="state"' in bar and 'name="team"' in bar and 'name="risk_tier"' in bar
    assert '<option value="validated" selected>' in bar
    assert 'value="credit-risk"' in bar and "hidden-team" not in bar
    assert 'data-testid="queue-filter-submit"' in bar
    assert ">Clear</a>" in bar
