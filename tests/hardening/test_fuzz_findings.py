"""The long fuzzing run's findings (bench/fuzz.py --examples 100), each pinned by the request
that found it, so they stay fixed."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import Team
from monitoring.models import Prediction
from registry.models import Run
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api(administrator) -> APIClient:
    client = APIClient()
    client.force_authenticate(administrator)
    return client


def test_a_team_named_like_another_is_a_409_not_a_500(admin_api, team):
    before = Team.objects.count()
    response = admin_api.post(
        "/api/v1/teams/", {"name": team.name, "slug": "another-slug"}, format="json"
    )
    assert response.status_code == 409
    assert "already exists" in response.json()["message"]
    assert Team.objects.count() == before


def test_a_long_team_name_gets_a_slug_that_fits(admin_api):
    """PostgreSQL refused a slug derived from a 150-character name (500); SQLite stored it."""
    response = admin_api.post("/api/v1/teams/", {"name": "Risk " * 30}, format="json")
    assert response.status_code == 201, response.content
    slug = response.json()["slug"]
    assert len(slug) <= 64 and not slug.endswith("-")
    assert Team.objects.get(slug=slug).name == ("Risk " * 30).strip()


def test_an_empty_team_slug_is_refused_not_invented(admin_api):
    response = admin_api.post("/api/v1/teams/", {"name": "Ops", "slug": ""}, format="json")
    assert response.status_code == 400
    assert "slug" in response.json()["errors"]
    assert not Team.objects.filter(name="Ops").exists()


@pytest.mark.parametrize("value", [True, "nan", "inf", "x"])
def test_a_metric_must_be_a_finite_number(admin_api, team, value):
    run = RunFactory(team=team)
    response = admin_api.patch(
        f"/api/v1/runs/{run.uuid}/", {"metrics": {"auc": value}}, format="json"
    )
    assert response.status_code == 400, response.content
    run.refresh_from_db()
    assert "auc" not in run.metrics


def test_a_metric_that_is_a_number_is_kept(admin_api, team):
    run = RunFactory(team=team)
    response = admin_api.patch(
        f"/api/v1/runs/{run.uuid}/", {"metrics": {"auc": 0.91}}, format="json"
    )
    assert response.status_code == 200, response.content
    assert Run.objects.get(pk=run.pk).metrics["auc"] == 0.91


def test_the_labelled_filter_takes_only_a_boolean(admin_api):
    from monitoring.tests.factories import DeploymentFactory

    deployment = DeploymentFactory(name="fuzzed")
    url = f"/api/v1/deployments/{deployment.name}/predictions/"
    assert admin_api.get(url, {"labelled": "5"}).status_code == 400
    for value in ("true", "false", "1", "0", ""):
        assert admin_api.get(url, {"labelled": value}).status_code == 200, value
    assert Prediction.objects.count() == 0


@pytest.mark.parametrize("commit", ["\t" + "*" * 64, "not-a-commit", "abc", "g" * 40])
def test_a_code_commit_must_be_a_commit_id(admin_api, team, commit):
    response = admin_api.post(
        "/api/v1/runs/", {"team": team.slug, "kind": "training", "code_commit": commit}
    )
    assert response.status_code == 400, response.content
    assert "code_commit" in response.json()["errors"]
    assert Run.objects.count() == 0


def test_a_short_or_full_commit_id_is_kept(admin_api, team):
    for commit in ("9f1c2e7", "a" * 40):
        response = admin_api.post(
            "/api/v1/runs/",
            {"team": team.slug, "kind": "training", "code_commit": commit},
            format="json",
        )
        assert response.status_code == 201, response.content
        assert response.json()["code_commit"] == commit


HUGE = 2**70  # beyond any database integer: SQLite's driver overflowed on it (a 500)


def test_a_huge_channel_id_is_a_400_not_a_500(admin_api):
    """Found by the fuzzer on the embedded database: ids in bodies are validated as ids."""
    from monitoring.tests.factories import AlertRuleFactory

    rule = AlertRuleFactory()
    response = admin_api.patch(
        f"/api/v1/alert-rules/{rule.pk}/", {"channels": [HUGE]}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "channels" in response.json()["errors"]
    assert list(rule.channels.all()) == []


@pytest.mark.parametrize(("field", "value"), [("artifact_size", HUGE), ("artifact_size", -1)])
def test_a_size_beyond_a_database_integer_is_refused(admin_api, team, field, value):
    from tests.factories import RegisteredModelFactory, fake_sha256

    model = RegisteredModelFactory(owner_team=team)
    response = admin_api.post(
        f"/api/v1/models/{model.name}/versions/",
        {"artifact_uri": "s3://m/1", "artifact_sha256": fake_sha256(1), field: value},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not model.versions.exists()
