"""The hot API paths, as a CI pipeline or an MLflow client calls them with a bearer token: each
answers in a pinned number of queries, the same for a page of 2 rows as for a page of 40. A
change that adds a query per request (or per row) fails here first."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.serializers import ModelSerializer
from rest_framework.test import APIClient, APIRequestFactory

from accounts.services.tokens import token_create
from registry.api.serializers import ModelVersionSerializer, RegisteredModelSerializer
from registry.models import ModelVersion, RegisteredModel
from registry.selectors import model_version_list_brief, registered_model_list_brief
from tests.factories import (
    DatasetVersionFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    RunFactory,
    fake_sha256,
)
from tests.services import require_postgres

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(contributor) -> APIClient:
    _, secret = token_create(actor=contributor, name="ci", scopes=["read", "write"])
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")
    # The first use of a token records it (last use, the day's login event); later ones do not.
    assert client.get("/api/v1/models/").status_code == 200
    return client


def _queries(call) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    return response, [query["sql"] for query in captured.captured_queries]


def _models(team, count: int, prefix: str) -> None:
    for i in range(count):
        model = RegisteredModelFactory(name=f"{prefix}-{i:03d}", owner_team=team)
        ModelVersionFactory(registered_model=model)


# the token with its user and the caller's roles, memberships and grants: every request
AUTH = 1


@pytest.mark.parametrize("rows", [2, 40])
def test_a_prefix_search_costs_the_same_for_2_or_40_models(api, team, rows):
    _models(team, rows, "churn")
    _models(team, 3, "fraud")
    response, queries = _queries(
        lambda: api.get("/api/v1/models/", {"name__startswith": "churn-", "page_size": 100})
    )
    assert response.status_code == 200
    assert [m["name"] for m in response.json()["results"]] == [
        f"churn-{i:03d}" for i in range(rows)
    ]
    # the page with its total, each model's version count, tags and aliases
    assert len(queries) == AUTH + 1, queries


@pytest.mark.parametrize("rows", [2, 40])
def test_listing_a_models_versions_costs_the_same_for_2_or_40(api, team, rows):
    model = RegisteredModelFactory(name="churn", owner_team=team)
    data = DatasetVersionFactory(dataset__owner_team=team)
    for _ in range(rows):
        version = ModelVersionFactory(registered_model=model)
        version.dataset_links.create(dataset_version=data, role="train")
    response, queries = _queries(lambda: api.get("/api/v1/models/churn/versions/?page_size=100"))
    assert response.status_code == 200
    assert len(response.json()["results"]) == rows
    assert response.json()["results"][0]["datasets"][0]["dataset"] == data.dataset.name
    # the model (may the caller see it?), then the page with its total, the data each version
    # used and its aliases, by a statement compiled once (core.precompiled)
    assert len(queries) == AUTH + 2, queries
    # asked for a filter or an order, the page is filtered by the caller's visibility instead
    response, queries = _queries(
        lambda: api.get("/api/v1/models/churn/versions/?page_size=100&ordering=version")
    )
    assert [v["version"] for v in response.json()["results"]] == list(range(1, rows + 1))
    assert len(queries) == AUTH + 1, queries


def test_an_empty_version_list_still_tells_an_unknown_model_from_a_model_without_versions(
    api, team, other_team
):
    RegisteredModelFactory(name="fresh", owner_team=team)
    RegisteredModelFactory(name="secret", owner_team=other_team)
    assert api.get("/api/v1/models/fresh/versions/").json()["count"] == 0
    assert api.get("/api/v1/models/nothing/versions/").status_code == 404
    assert api.get("/api/v1/models/secret/versions/").status_code == 404


def test_getting_a_version_takes_three_queries(api, team):
    model = RegisteredModelFactory(name="churn", owner_team=team)
    parent = ModelVersionFactory(registered_model=model)
    ModelVersionFactory(registered_model=model, derived_from=parent)
    response, queries = _queries(lambda: api.get("/api/v1/models/churn/versions/2/"))
    assert response.status_code == 200
    assert response.json()["derived_from"] == {"model": "churn", "version": 1}
    # the version with its model, run, parent, the data it used and its aliases
    assert len(queries) == AUTH + 1, queries


def test_getting_a_model_takes_three_queries(api, team):
    ModelVersionFactory(registered_model=RegisteredModelFactory(name="churn", owner_team=team))
    response, queries = _queries(lambda: api.get("/api/v1/models/churn/"))
    assert response.status_code == 200
    assert response.json()["version_count"] == 1
    # the model with its counts, its tags and its aliases
    assert len(queries) == AUTH + 1, queries


def test_registering_a_model_and_a_version_takes_a_pinned_number_of_queries(api, team):
    # The change log names each row's type; Django caches those ids per process, so warm the
    # cache first: the count must not depend on which tests ran before.
    ContentType.objects.get_for_models(RegisteredModel, ModelVersion)
    response, queries = _queries(
        lambda: api.post(
            "/api/v1/models/", {"name": "churn", "owner_team": team.slug}, format="json"
        )
    )
    assert response.status_code == 201, response.json()
    writes = [q for q in queries if q.startswith("INSERT")]
    # the model, its change-log entry and its audit event
    assert len(writes) == 3, writes
    model_queries = len(queries)
    response, queries = _queries(
        lambda: api.post(
            "/api/v1/models/churn/versions/",
            {"artifact_uri": "s3://models/churn/1", "artifact_sha256": fake_sha256(1)},
            format="json",
        )
    )
    assert response.status_code == 201, response.json()
    assert response.json()["version"] == 1
    # PostgreSQL also takes an advisory lock for the audit chain: pinned per database.
    # Both answers are rendered from the service's instances (a new model has no version, tag
    # or alias; a new version no alias and here no data): nothing is read back. The lineage
    # node of a new row is inserted without a lookup, the chain append takes no savepoint,
    # and the change log records a row's own columns, not what points at it.
    expected = {"postgresql": (12, 12), "sqlite": (11, 11)}[connection.vendor]
    assert (model_queries, len(queries)) == expected, queries


def test_the_version_page_costs_the_same_with_2_or_12_versions_of_its_model(
    contributor, team, client
):
    counts = []
    for extra in (2, 12):
        model = RegisteredModelFactory(name=f"churn-{extra}", owner_team=team)
        for _ in range(extra):
            ModelVersionFactory(registered_model=model)
        client.force_login(contributor)
        path = f"/models/churn-{extra}/versions/1/"
        assert client.get(path).status_code == 200
        response, queries = _queries(lambda path=path: client.get(path))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert counts[0] == PAGE_QUERIES, counts


# the page of a version: session, roles, the version, its reviews, panels, documents, lineage,
# its aliases, and (its artifact being a URI, not an upload) whether a protocol holds its files;
# the lineage's version statuses; the evidence summary's version in production and open findings
# (its policy checks reuse the review section's); the documents panel's newest per template;
# the "Documents written" check (current templates, the sections written). The header's audit
# link is answered from the roles already read (the audit verb), no query of its own.
PAGE_QUERIES = 37


def test_the_fast_model_representation_equals_the_declared_one(team, administrator):
    model = RegisteredModelFactory(name="churn", owner_team=team, tags=["credit", "retail"])
    ModelVersionFactory(registered_model=model)
    ModelVersionFactory(registered_model=model)
    row = registered_model_list_brief(administrator).get(name="churn")
    fast = RegisteredModelSerializer(row).data
    declared = ModelSerializer.to_representation(RegisteredModelSerializer(row), row)
    assert fast == declared
    assert fast["tags"] == ["credit", "retail"]
    assert fast["version_count"] == 2 and fast["latest_version"] == 2


def test_the_fast_version_representation_equals_the_declared_one(team, other_team, contributor):
    """Built directly for speed, a version's answer must still be exactly what DRF's declared
    fields give, hidden data and run included."""
    model = RegisteredModelFactory(name="churn", owner_team=team)
    parent = ModelVersionFactory(registered_model=model)
    mine = DatasetVersionFactory(dataset__owner_team=team)
    theirs = DatasetVersionFactory(dataset__owner_team=other_team)
    ModelVersionFactory(
        registered_model=model,
        derived_from=parent,
        run=RunFactory(team=team),
        datasets=[(mine, "train")],
        params={"depth": 3},
        packages={"scikit-learn": "1.5.0"},
    )
    version = model.versions.get(version=2)
    version.dataset_links.create(dataset_version=theirs, role="test")
    request = APIRequestFactory().get("/")
    request.user = contributor
    row = model_version_list_brief(contributor).get(pk=version.pk)
    fast = ModelVersionSerializer(row, context={"request": request}).data
    declared = ModelSerializer.to_representation(
        ModelVersionSerializer(row, context={"request": request}), row
    )
    assert fast == declared
    assert fast["datasets"] == [{"dataset": mine.dataset.name, "version": 1, "role": "train"}]
    assert fast["hidden_datasets"] == 1
    assert fast["derived_from"] == {"model": "churn", "version": 1}
    assert fast["run"] is not None and fast["params"] == {"depth": 3}


def test_the_answer_to_a_registration_is_what_a_later_get_answers(api, team):
    """The create answer is rendered from the service's instance, not read back: it must say
    exactly what reading the version says."""
    model = RegisteredModelFactory(name="churn", owner_team=team)
    ModelVersionFactory(registered_model=model)
    data = DatasetVersionFactory(dataset__owner_team=team)
    run = RunFactory(team=team)
    response = api.post(
        "/api/v1/models/churn/versions/",
        {
            "artifact_uri": "s3://models/churn/2",
            "artifact_sha256": fake_sha256(2),
            "params": {"zeta": 1, "alpha": {"b": [1, 2], "a": None}},
            "metrics": {"auc": 0.91, "f1": 1},
            "run": str(run.uuid),
            "datasets": [
                {"dataset": data.dataset.name, "version": data.version, "role": "validation"}
            ],
            "derived_from": {"model": "churn", "version": 1},
            "code_commit": "a" * 40,
            "description": "second",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created == api.get("/api/v1/models/churn/versions/2/").json()
    assert created["run"] == str(run.uuid)
    assert created["derived_from"] == {"model": "churn", "version": 1}
    assert created["datasets"] == [
        {"dataset": data.dataset.name, "version": data.version, "role": "validation"}
    ]


@pytest.mark.postgres
def test_a_prefix_search_uses_an_index_under_any_collation(team):
    """PostgreSQL's unique index on the name serves LIKE 'x%' only under the C collation; the
    pattern-ops index serves it under every collation (big catalogues stay fast)."""
    require_postgres()
    for n in range(30):
        RegisteredModelFactory(name=f"model-{n:02d}", owner_team=team)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = RegisteredModel.objects.filter(name__startswith="model-1").explain()
    assert "registry_model_name_prefix" in plan, plan


@pytest.mark.parametrize("tags", [[], ["credit", "retail"]])
def test_the_answer_to_a_model_registration_is_what_a_later_get_answers(api, team, tags):
    response = api.post(
        "/api/v1/models/",
        {"name": "churn", "owner_team": team.slug, "tags": tags, "description": "Scores churn."},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json() == api.get("/api/v1/models/churn/").json()
    assert response.json()["tags"] == tags and response.json()["version_count"] == 0


def test_a_version_list_reads_its_total_with_the_page(api, team):
    """The page carries the total (one query, no count): every page says how many versions
    there are, a page past the end is a 404 as before, and a filter that needs DISTINCT
    (trained_on) is counted the usual way, after DISTINCT."""
    model = RegisteredModelFactory(name="churn", owner_team=team)
    data = DatasetVersionFactory(dataset__owner_team=team)
    for _ in range(5):
        version = ModelVersionFactory(registered_model=model)
        # two roles on the same data: the trained_on join yields each version twice
        version.dataset_links.create(dataset_version=data, role="train")
        version.dataset_links.create(dataset_version=data, role="test")
    pages = [api.get(f"/api/v1/models/churn/versions/?page_size=2&page={n}") for n in (1, 2, 3)]
    assert [page.json()["count"] for page in pages] == [5, 5, 5]
    assert [[row["version"] for row in page.json()["results"]] for page in pages] == [
        [5, 4],
        [3, 2],
        [1],
    ]
    assert pages[0].json()["next"] and pages[2].json()["next"] is None
    assert api.get("/api/v1/models/churn/versions/?page_size=2&page=4").status_code == 404
    assert api.get("/api/v1/models/churn/versions/?page=0").status_code == 404
    assert api.get("/api/v1/models/churn/versions/?page=x").status_code == 404
    trained = api.get(
        f"/api/v1/models/churn/versions/?trained_on={data.dataset.name}&page_size=2"
    ).json()
    assert trained["count"] == 5 and len(trained["results"]) == 2
    RegisteredModelFactory(name="fresh", owner_team=team)
    empty = api.get("/api/v1/models/fresh/versions/").json()
    assert empty["count"] == 0 and empty["results"] == []


def test_a_model_list_reads_its_total_with_the_page_and_counts_distinct_searches_apart(api, team):
    """A search over tags joins each model once per matching tag and needs DISTINCT: its
    total is counted after DISTINCT, not by the window (which would count the joined rows)."""
    for i in range(3):
        RegisteredModelFactory(name=f"churn-{i}", owner_team=team, tags=["risk-a", "risk-b"])
    RegisteredModelFactory(name="other", owner_team=team)
    page = api.get("/api/v1/models/?name__startswith=churn-&page_size=2").json()
    assert page["count"] == 3 and [m["name"] for m in page["results"]] == ["churn-0", "churn-1"]
    searched = api.get("/api/v1/models/?search=risk&page_size=2").json()
    assert searched["count"] == 3 and len(searched["results"]) == 2
    assert api.get("/api/v1/models/?name__startswith=churn-&page_size=2&page=3").status_code == 404
    nothing = api.get("/api/v1/models/?name__startswith=none-").json()
    assert nothing["count"] == 0 and nothing["results"] == []
