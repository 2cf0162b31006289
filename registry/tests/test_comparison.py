"""Two versions side by side: what differs (params, metrics, data, code, environment, lineage
inputs), who may compare them, what a bad address answers, and what the page costs."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.choices import DatasetRole, VersionStatus
from registry.comparison import PRODUCTION, version_comparison
from registry.models import ModelVersion
from tests.factories import (
    DatasetFactory,
    DatasetVersionFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    RunFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(team, other_team):
    model = RegisteredModelFactory(name="churn", owner_team=team)
    loans_1 = DatasetVersionFactory(dataset=DatasetFactory(name="loans", owner_team=team))
    loans_2 = DatasetVersionFactory(dataset=loans_1.dataset)
    holdout = DatasetVersionFactory(dataset=DatasetFactory(name="holdout", owner_team=team))
    secret = DatasetVersionFactory(dataset=DatasetFactory(name="secret", owner_team=other_team))
    run = RunFactory(team=team, name="train-2", inputs=[(loans_2, DatasetRole.TRAIN)])
    v1 = ModelVersionFactory(
        registered_model=model,
        params={"depth": 4, "lr": 0.1},
        metrics={"auc": 0.85, "loss": 0.30},
        datasets=[(loans_1, DatasetRole.TRAIN), (holdout, DatasetRole.TEST)],
        code_repository="git@example.org:churn.git",
        code_commit="a" * 40,
        python_version="3.11.4",
        packages={"numpy": "1.26.0", "scikit-learn": "1.4.0", "pandas": "2.1.0"},
    )
    ModelVersion.objects.filter(pk=v1.pk).update(status=VersionStatus.PRODUCTION)
    v2 = ModelVersionFactory(
        registered_model=model,
        params={"depth": 6, "lr": 0.1, "subsample": 0.8},
        metrics={"auc": 0.90, "loss": 0.35},
        datasets=[(loans_2, DatasetRole.TRAIN), (holdout, DatasetRole.TEST)],
        run=run,
        code_repository="git@example.org:churn.git",
        code_commit="b" * 40,
        python_version="3.12.1",
        packages={"numpy": "1.26.0", "scikit-learn": "1.5.0", "xgboost": "2.0.3"},
    )
    # A version that used another team's data: the owner may register it, not every viewer
    # may see that data.
    v3 = ModelVersionFactory(registered_model=model, datasets=[(secret, DatasetRole.TRAIN)])
    return {"model": model, "v1": v1, "v2": v2, "v3": v3}


def rows(items) -> dict:
    return {row.name: row.state for row in items}


def test_it_lists_what_changed_from_a_to_b(world, contributor):
    c = version_comparison(contributor, "churn", 1, 2)
    assert rows(c.params) == {"depth": "changed", "lr": "same", "subsample": "added"}
    metrics = {m.name: m for m in c.metrics}
    assert metrics["auc"].baseline == 0.85 and metrics["auc"].value == 0.90
    assert (metrics["auc"].direction, metrics["auc"].judgement) == ("up", "better")
    assert metrics["loss"].judgement == "worse"
    assert rows(c.data) == {"Training": "changed", "Test": "same"}
    assert {r.name: (r.a, r.b) for r in c.data}["Training"] == ("loans v1", "loans v2")
    assert rows(c.code) == {"Repository": "same", "Commit": "changed", "Path": "same"}
    assert rows(c.environment)["Python"] == "changed"
    assert rows(c.packages) == {
        "numpy": "same",
        "pandas": "removed",
        "scikit-learn": "changed",
        "xgboost": "added",
    }
    assert c.changed_packages == 3 and c.same_packages == 1


def test_the_lineage_diff_names_inputs_added_and_removed(world, contributor):
    lineage = version_comparison(contributor, "churn", 1, 2).lineage
    assert {(i.kind, i.label) for i in lineage.added} == {
        ("dataset_version", "loans v2"),
        ("run", "train-2"),
    }
    assert [(i.kind, i.label) for i in lineage.removed] == [("dataset_version", "loans v1")]
    assert [i.label for i in lineage.shared] == ["holdout v1"]


def test_another_teams_data_is_counted_not_named(world, team, contributor, outsider):
    # The outsider may not even see the model; a teammate sees the version but not the data.
    lineage = version_comparison(contributor, "churn", 1, 3).lineage
    assert lineage.hidden_b == 1
    assert all("secret" not in i.label for i in lineage.added + lineage.removed)


def test_production_may_stand_for_a_version_number(world, contributor):
    c = version_comparison(contributor, "churn", PRODUCTION, 2)
    assert (c.a.version, c.b.version) == (1, 2)


def test_the_page_shows_both_versions(world, contributor, client):
    client.force_login(contributor)
    response = client.get("/models/churn/compare/?a=1&b=2")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="compare-metrics"' in html
    assert 'data-name="scikit-learn" data-state="changed"' in html
    assert 'data-testid="lineage-added"' in html and "loans v2" in html
    assert html.count("<h1") == 1


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("", 400, "is missing"),
        ("?a=1", 400, "is missing"),
        ("?a=one&b=2", 400, "not a version number"),
        ("?a=0&b=2", 400, "not a version number"),
        ("?a=1&b=99999999999999999999", 400, "not a version number"),
        ("?a=1&b=%00", 400, "NUL character"),
        ("?a=production&b=production", 400, "not with itself"),
        ("?a=1&b=42", 404, "has no version 42"),
    ],
)
def test_a_bad_address_is_a_clear_4xx(world, contributor, client, query, status, message):
    client.force_login(contributor)
    response = client.get(f"/models/churn/compare/{query}")
    assert response.status_code == status
    assert message in response.content.decode()


def test_no_production_to_compare_with_is_a_404_that_says_so(team, contributor, client):
    ModelVersionFactory(registered_model=RegisteredModelFactory(name="fresh", owner_team=team))
    client.force_login(contributor)
    response = client.get("/models/fresh/compare/?a=production&b=1")
    assert response.status_code == 404
    assert "in production to compare v1 with" in response.content.decode()


def test_another_teams_user_gets_404_and_no_names(world, outsider, client):
    client.force_login(outsider)
    for query in ("?a=1&b=2", "?a=production&b=2", "?a=2&b=3"):
        response = client.get(f"/models/churn/compare/{query}")
        assert response.status_code == 404
        assert b"loans" not in response.content
    for number in (1, 2, 3):
        assert client.get(f"/models/churn/versions/{number}/").status_code == 404


def test_the_compare_page_is_read_only_and_needs_a_sign_in(world, contributor, client):
    assert client.get("/models/churn/compare/?a=1&b=2").status_code == 302
    client.force_login(contributor)
    assert client.post("/models/churn/compare/?a=1&b=2").status_code == 405


# session, user, the caller's roles; the model and its tags; each version with its data links;
# the runs' inputs; the header's inbox count and queued work; the version menus. (The audit
# link is answered from the roles already read: the audit verb, no query.)
COMPARE_QUERIES = 13


def test_the_compare_page_costs_the_same_for_few_or_many_params_packages_and_data(
    team, contributor, client
):
    counts = []
    for size in (2, 20):
        model = RegisteredModelFactory(name=f"wide-{size}", owner_team=team)
        data = [DatasetVersionFactory(dataset=DatasetFactory(owner_team=team)) for _ in range(size)]
        run = RunFactory(team=team, inputs=[(dv, DatasetRole.TRAIN) for dv in data])
        for shift in (0, 1):
            ModelVersionFactory(
                registered_model=model,
                params={f"p{i}": i + shift for i in range(size)},
                metrics={f"m{i}": i / (10 + shift) for i in range(size)},
                packages={f"pkg{i}": f"1.{i + shift}" for i in range(size)},
                datasets=[(dv, DatasetRole.TRAIN) for dv in data[shift:]],
                run=run,
            )
        client.force_login(contributor)
        path = f"/models/wide-{size}/compare/?a=1&b=2"
        assert client.get(path).status_code == 200
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1], counts
    assert counts[0] == COMPARE_QUERIES, counts
