"""A lineage graph never reveals what the viewer may not see, but shows that it is there."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import (
    DatasetFactory,
    DatasetVersionFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    RunFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cross_team(team, other_team):
    """Credit Risk's secret dataset trains Marketing's model (built by a superuser)."""
    secret = DatasetVersionFactory(dataset=DatasetFactory(name="secret-loans", owner_team=team))
    run = RunFactory(team=other_team, name="mkt-train", inputs=[(secret, "train")])
    model = RegisteredModelFactory(name="mkt-model", owner_team=other_team)
    return ModelVersionFactory(registered_model=model, run=run)


def lineage(user, url):
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.json()


def test_the_other_teams_data_is_a_hidden_node(cross_team, outsider):
    graph = lineage(outsider, "/api/v1/models/mkt-model/versions/1/lineage/?direction=upstream")
    kinds = sorted(n["kind"] for n in graph["nodes"])
    assert kinds == ["hidden", "model_version", "run"]
    hidden = next(n for n in graph["nodes"] if n["kind"] == "hidden")
    assert hidden["key"] == "" and hidden["label"] == "Hidden"
    assert "secret-loans" not in str(graph)
    assert len(graph["edges"]) == 2  # the edge into the hidden node is kept


def test_the_other_teams_use_of_my_data_is_hidden_too(cross_team, contributor):
    graph = lineage(
        contributor, "/api/v1/datasets/secret-loans/versions/1/lineage/?direction=downstream"
    )
    assert sorted(n["kind"] for n in graph["nodes"]) == ["dataset_version", "hidden", "hidden"]
    assert "mkt-" not in str(graph)


def test_an_auditor_sees_every_node(cross_team, auditor):
    graph = lineage(auditor, "/api/v1/models/mkt-model/versions/1/lineage/?direction=upstream")
    assert "hidden" not in {n["kind"] for n in graph["nodes"]}


def test_the_page_draws_hidden_nodes_without_names(cross_team, outsider, client):
    client.force_login(outsider)
    page = client.get("/models/mkt-model/versions/1/").content.decode()
    assert "secret-loans" not in page
    assert 'data-testid="lineage-hidden"' in page
    assert "kind_hidden" in page


def test_the_version_record_counts_hidden_provenance_without_naming_it(cross_team, outsider):
    body = lineage(outsider, "/api/v1/models/mkt-model/versions/1/")
    assert body["datasets"] == [] and body["hidden_datasets"] == 1
    assert "secret-loans" not in str(body)
    run = lineage(outsider, f"/api/v1/runs/{body['run']}/")
    assert run["inputs"] == []
