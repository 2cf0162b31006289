"""One FilterSet per list (``registry.filters``): the REST API and the catalogue pages read the
same parameters under the same names and keep the same rows; a bad value is a 400 on both faces
(a JSON body naming the field, an error page listing the form's errors), never a 500."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from registry.choices import RunKind, RunStatus
from tests.factories import DatasetFactory, RegisteredModelFactory, RunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(contributor) -> APIClient:
    client = APIClient()
    client.force_authenticate(contributor)
    return client


@pytest.fixture
def catalogue(team, other_team):
    RegisteredModelFactory(
        name="credit-scorer", owner_team=team, risk_tier="high", tags=["pii", "credit"]
    )
    RegisteredModelFactory(
        name="limit-setter", owner_team=team, risk_tier="low", description="Credit limits"
    )
    RegisteredModelFactory(
        name="churn", owner_team=other_team, risk_tier="low", description="predicts churn"
    )


def _api_models(api, query: dict) -> set[str]:
    response = api.get("/api/v1/models/", query)
    assert response.status_code == 200, response.json()
    return {row["name"] for row in response.json()["results"]}


def _page_models(client, user, query: dict) -> set[str]:
    client.force_login(user)
    response = client.get("/models/", query)
    assert response.status_code == 200
    return {model.name for model in response.context["page"].object_list}


@pytest.mark.parametrize(
    "query",
    [
        {"owner_team": "credit-risk"},
        {"search": "credit"},  # a name, a description and a tag
        {"search": "credit limits"},  # every word, anywhere
        {"search": "pii"},
        {"tag": "credit"},
        {"risk_tier": "low"},
        {"risk_tier": "low", "search": "limit"},
        {"owner_team": "no-such-team"},
    ],
)
def test_it_keeps_the_same_models_on_the_api_and_the_page(
    api, client, contributor, catalogue, query
):
    assert _api_models(api, query) == _page_models(client, contributor, query)


def test_the_page_still_reads_its_old_parameter_names(client, contributor, catalogue):
    """``q`` and ``team`` were the catalogue page's names before it took the API's."""
    old = _page_models(client, contributor, {"q": "credit", "team": "credit-risk"})
    assert old == _page_models(
        client, contributor, {"search": "credit", "owner_team": "credit-risk"}
    )
    assert old == {"credit-scorer", "limit-setter"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"risk_tier": "extreme"}, "risk_tier"),
        ({"search": "x" * 201}, "search"),
        ({"search": "a\x1fb"}, "search"),
        ({"tag": "a\x01b"}, "tag"),
    ],
)
def test_a_bad_value_is_a_400_naming_the_field_on_both_faces(
    api, client, contributor, catalogue, query, field
):
    answer = api.get("/api/v1/models/", query)
    assert answer.status_code == 400
    assert field in answer.json()["errors"]

    client.force_login(contributor)
    page = client.get("/models/", query)
    assert page.status_code == 400
    assert f"<code>{field}</code>" in page.content.decode()


def test_a_nul_in_a_search_is_a_400_on_both_faces(api, client, contributor):
    """PostgreSQL refuses NUL in text: it never reaches the database."""
    assert api.get("/api/v1/models/", {"search": "a\x00b"}).status_code == 400
    client.force_login(contributor)
    assert client.get("/models/", {"search": "a\x00b"}).status_code == 400


def test_an_unknown_risk_tier_is_named_in_the_same_words(api, client, contributor):
    client.force_login(contributor)
    page = client.get("/models/", {"risk_tier": "extreme"}).content.decode()
    body = api.get("/api/v1/models/", {"risk_tier": "extreme"}).json()

    assert body["errors"]["risk_tier"] == ["Unknown risk tier 'extreme'."]
    assert "Unknown risk tier &#x27;extreme&#x27;." in page


def test_the_filter_bar_is_the_filtersets_form(client, contributor, catalogue):
    client.force_login(contributor)
    html = client.get("/models/", {"owner_team": "credit-risk"}).content.decode()

    assert 'name="search"' in html and 'name="owner_team"' in html
    assert '<option value="credit-risk" selected>' in html
    assert 'name="name__startswith"' not in html  # the API's only
    assert "Clear</a>" in html


@pytest.fixture
def runs(team, other_team, contributor):
    RunFactory(actor=contributor, team=team, name="nightly-train", status=RunStatus.RUNNING)
    RunFactory(
        actor=contributor,
        team=team,
        name="holdout-eval",
        kind=RunKind.EVALUATION,
        status=RunStatus.COMPLETED,
        notes="nightly holdout",
    )
    RunFactory(team=other_team, name="nightly-churn")


@pytest.mark.parametrize(
    "query",
    [
        {"search": "nightly"},  # a name or the notes, and never another team's
        {"team": "credit-risk", "kind": "evaluation"},
        {"status": "running"},
        {"team": "marketing"},
    ],
)
def test_it_keeps_the_same_runs_on_the_api_and_the_page(api, client, contributor, runs, query):
    from_api = {row["name"] for row in api.get("/api/v1/runs/", query).json()["results"]}
    client.force_login(contributor)
    page = client.get("/runs/", query)
    assert page.status_code == 200
    assert from_api == {run.name for run in page.context["page"].object_list}


def test_a_bad_run_kind_is_a_400_on_both_faces(api, client, contributor):
    assert api.get("/api/v1/runs/", {"kind": "bogus"}).status_code == 400
    client.force_login(contributor)
    page = client.get("/runs/", {"kind": "bogus"})
    assert page.status_code == 400
    assert "Unknown run kind" in page.content.decode()


def test_the_dataset_search_is_the_apis(api, client, contributor, team):
    DatasetFactory(name="loans", owner_team=team, description="Retail loans")
    DatasetFactory(name="holdout", owner_team=team, tags=["retail"])
    DatasetFactory(name="clicks", owner_team=team)
    from_api = {row["name"] for row in api.get("/api/v1/datasets/?search=retail").json()["results"]}
    client.force_login(contributor)
    page = client.get("/datasets/", {"search": "retail"})
    assert from_api == {d.name for d in page.context["page"].object_list} == {"loans", "holdout"}
