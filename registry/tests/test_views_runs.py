"""The runs page: the runs a person may see, newest first, searchable by name or id and
filterable by team, kind and status, paginated at a constant cost; a run page's breadcrumb
leads back to it. Another team's runs are never listed."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registry.choices import RunKind, RunStatus
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db
URL = "/runs/"


@pytest.fixture
def runs(team, other_team, contributor):
    return {
        "nightly": RunFactory(
            actor=contributor, team=team, name="nightly-train", status=RunStatus.RUNNING
        ),
        "eval": RunFactory(
            actor=contributor,
            team=team,
            name="holdout-eval",
            kind=RunKind.EVALUATION,
            status=RunStatus.COMPLETED,
        ),
        "foreign": RunFactory(team=other_team, name="nightly-churn"),
    }


def names(client, user, **params) -> list[str]:
    client.force_login(user)
    response = client.get(URL, params)
    assert response.status_code == 200
    return [run.name for run in response.context["page"].object_list]


def test_it_lists_only_the_runs_a_person_may_see(client, runs, contributor, outsider, auditor):
    assert reverse("registry:run-list") == URL
    assert names(client, contributor) == ["holdout-eval", "nightly-train"]
    assert names(client, outsider) == ["nightly-churn"]
    assert set(names(client, auditor)) == {"holdout-eval", "nightly-train", "nightly-churn"}


def test_it_searches_by_name_or_id_and_filters_by_team_kind_and_status(client, runs, contributor):
    assert names(client, contributor, q="nightly") == ["nightly-train"]  # not the other team's
    assert names(client, contributor, q=str(runs["eval"].uuid)) == ["holdout-eval"]
    assert names(client, contributor, kind="evaluation") == ["holdout-eval"]
    assert names(client, contributor, status="completed") == ["holdout-eval"]
    assert names(client, contributor, team="credit-risk") == ["holdout-eval", "nightly-train"]
    assert names(client, contributor, team="marketing") == []


@pytest.mark.parametrize(
    "params", [{"kind": "bogus"}, {"status": "<b>"}, {"q": "x" * 500}, {"q": "a\x00b"}]
)
def test_bad_filters_are_a_400(client, contributor, params):
    client.force_login(contributor)
    assert client.get(URL, params).status_code == 400


def test_it_paginates_at_a_constant_cost(client, team, contributor):
    for i in range(3):
        RunFactory(actor=contributor, team=team, name=f"sweep-{i}")
    client.force_login(contributor)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL).status_code == 200
        return len(ctx.captured_queries)

    before = queries()
    for i in range(30):
        RunFactory(actor=contributor, team=team, name=f"more-{i}")
    assert queries() == before
    response = client.get(URL, {"page": 2})
    assert len(response.context["page"].object_list) == 33 - 25
    assert b'data-testid="pagination"' in response.content


def test_a_run_page_breadcrumb_links_to_the_list(client, runs, contributor):
    client.force_login(contributor)
    html = client.get(reverse("registry:run-detail", args=[runs["nightly"].uuid])).content
    assert b'<a href="/runs/" data-testid="breadcrumb-runs">Runs</a>' in html


def test_it_needs_a_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]
