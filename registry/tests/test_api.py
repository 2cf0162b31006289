"""The registry's REST API as a client (a CI pipeline, a notebook) uses it."""

from __future__ import annotations

import hashlib

import pytest
from rest_framework.test import APIClient

from registry.models import Artifact, ModelVersion, RegisteredModel
from tests.factories import (
    DatasetFactory,
    DatasetVersionFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    RunFactory,
    fake_sha256,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(contributor) -> APIClient:
    api = APIClient()
    api.force_authenticate(contributor)
    return api


def test_it_refuses_anonymous_clients():
    response = APIClient().get("/api/v1/models/")
    assert response.status_code == 403
    assert response.json()["message"]


def test_a_pipeline_registers_data_a_run_and_a_model_version(client, team):
    assert (
        client.post(
            "/api/v1/datasets/", {"name": "loans", "owner_team": team.slug}, format="json"
        ).status_code
        == 201
    )
    dv = client.post(
        "/api/v1/datasets/loans/versions/",
        {
            "uri": "s3://data/loans.parquet",
            "content_hash": fake_sha256("loans"),
            "row_count": 10,
            "schema": {"income": "float"},
        },
        format="json",
    )
    assert dv.status_code == 201, dv.json()
    assert dv.json()["version"] == 1
    run = client.post(
        "/api/v1/runs/",
        {
            "kind": "training",
            "team": team.slug,
            "name": "nightly",
            "inputs": [{"dataset": "loans", "version": 1, "role": "train"}],
            "params": {"max_depth": 4},
            "metrics": {"auc": 0.81},
        },
        format="json",
    )
    assert run.status_code == 201, run.json()
    run_id = run.json()["uuid"]
    assert (
        client.post(
            "/api/v1/models/",
            {
                "name": "loan-default",
                "owner_team": team.slug,
                "risk_tier": "high",
                "tags": ["credit"],
            },
            format="json",
        ).status_code
        == 201
    )
    version = client.post(
        "/api/v1/models/loan-default/versions/",
        {
            "artifact_uri": "s3://models/ld.pkl",
            "artifact_sha256": fake_sha256("ld"),
            "framework": "xgboost",
            "run": run_id,
            "metrics": {"auc": 0.81},
            "code_repository": "https://git.example.org/ml",
            "code_commit": "c" * 40,
            "python_version": "3.11",
            "packages": {"xgboost": "2.1.0"},
        },
        format="json",
    )
    assert version.status_code == 201, version.json()
    body = version.json()
    assert body["version"] == 1
    assert body["status"] == "draft"
    assert body["run"] == run_id
    assert body["datasets"] == [{"dataset": "loans", "version": 1, "role": "train"}]
    assert body["registered_by"] == "carol"

    lineage = client.get("/api/v1/models/loan-default/versions/1/lineage/?direction=upstream")
    assert lineage.status_code == 200
    graph = lineage.json()
    assert {n["key"] for n in graph["nodes"]} == {"loan-default/1", run_id, "loans/1"}
    assert len(graph["edges"]) == 2
    assert graph["truncated"] is False


@pytest.mark.parametrize(
    ("url", "payload", "field"),
    [
        ("/api/v1/models/", {"name": "Bad Name", "owner_team": "credit-risk"}, "name"),
        ("/api/v1/models/", {"name": "ok", "owner_team": "no-such-team"}, "owner_team"),
        (
            "/api/v1/models/",
            {"name": "ok", "owner_team": "credit-risk", "risk_tier": "x"},
            "risk_tier",
        ),
        ("/api/v1/models/", {"name": "ok", "owner_team": "credit-risk", "tags": "abc"}, "tags"),
        ("/api/v1/runs/", {"kind": "magic", "team": "credit-risk"}, "kind"),
        (
            "/api/v1/runs/",
            {
                "kind": "training",
                "team": "credit-risk",
                "inputs": [{"dataset": "nope", "version": 1, "role": "train"}],
            },
            "inputs",
        ),
        (
            "/api/v1/runs/",
            {"kind": "training", "team": "credit-risk", "metrics": {"auc": "good"}},
            "metrics",
        ),
        ("/api/v1/datasets/", {"name": "", "owner_team": "credit-risk"}, "name"),
    ],
)
def test_bad_input_is_a_400_with_field_errors(client, team, url, payload, field):
    response = client.post(url, payload, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body["errors"]
    assert body["message"].startswith("Invalid input")


def test_bad_version_payloads_are_400_and_register_nothing(client, team):
    RegisteredModelFactory(name="m", owner_team=team)
    bad = [
        {},
        {"artifact_uri": "s3://x"},
        {"artifact_uri": "s3://x", "artifact_sha256": "XYZ"},
        {"artifact_uri": "s3://x", "artifact_sha256": fake_sha256(1), "params": [1, 2]},
        {"artifact_uri": "s3://x", "artifact_sha256": fake_sha256(1), "run": "not-a-uuid"},
        {
            "artifact_uri": "s3://x",
            "artifact_sha256": fake_sha256(1),
            "derived_from": {"model": "m", "version": 9},
        },
        {"artifact_uri": "s3://x", "artifact_sha256": fake_sha256(1), "artifact": "0" * 64},
        {
            "artifact_uri": "s3://x",
            "artifact_sha256": fake_sha256(1),
            "image_digest": "ubuntu:latest",
        },
    ]
    for payload in bad:
        response = client.post("/api/v1/models/m/versions/", payload, format="json")
        assert response.status_code == 400, (payload, response.content)
    not_json = client.post(
        "/api/v1/models/m/versions/", "{not json", content_type="application/json"
    )
    assert not_json.status_code == 400
    assert not ModelVersion.objects.exists()


def test_a_duplicate_model_name_is_a_409(client, team):
    RegisteredModelFactory(name="churn", owner_team=team)
    response = client.post(
        "/api/v1/models/", {"name": "churn", "owner_team": team.slug}, format="json"
    )
    assert response.status_code == 409
    assert "already exists" in response.json()["message"]


def test_only_team_members_register_for_a_team(outsider, team):
    api = APIClient()
    api.force_authenticate(outsider)
    response = api.post("/api/v1/models/", {"name": "x", "owner_team": team.slug}, format="json")
    assert response.status_code == 403
    model = RegisteredModelFactory(owner_team=team)
    response = api.post(
        f"/api/v1/models/{model.name}/versions/",
        {"artifact_uri": "s3://x", "artifact_sha256": fake_sha256(1)},
        format="json",
    )
    assert response.status_code == 404  # another team's model: not even its existence shows
    assert not RegisteredModel.objects.filter(name="x").exists()
    assert not model.versions.exists()


def test_unknown_things_are_404(client):
    assert client.get("/api/v1/models/nope/").status_code == 404
    assert client.get("/api/v1/models/nope/versions/").status_code == 404
    assert client.get("/api/v1/models/nope/versions/1/lineage/").status_code == 404
    assert client.get("/api/v1/datasets/nope/versions/3/").status_code == 404
    assert client.get("/api/v1/runs/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_lineage_rejects_bad_parameters(client):
    version = ModelVersionFactory()
    url = f"/api/v1/models/{version.registered_model.name}/versions/1/lineage/"
    assert client.get(url + "?depth=abc").status_code == 400
    assert client.get(url + "?depth=100000").status_code == 400
    assert client.get(url + "?direction=sideways").status_code == 400


def test_catalogue_filters_search_and_paginates(auditor, team, other_team):
    client = APIClient()
    client.force_authenticate(auditor)
    RegisteredModelFactory(
        name="fraud-detector", owner_team=team, risk_tier="critical", tags=["fraud"]
    )
    RegisteredModelFactory(
        name="churn", owner_team=other_team, risk_tier="low", description="predicts churn"
    )
    for i in range(5):
        RegisteredModelFactory(name=f"misc-{i}", owner_team=team)

    def names(query):
        response = client.get("/api/v1/models/" + query)
        assert response.status_code == 200
        return [m["name"] for m in response.json()["results"]]

    assert names("?risk_tier=critical") == ["fraud-detector"]
    assert names("?owner_team=marketing") == ["churn"]
    assert names("?tag=fraud") == ["fraud-detector"]
    assert names("?search=predicts") == ["churn"]
    page = client.get("/api/v1/models/?page_size=3&page=2").json()
    assert page["count"] == 7 and len(page["results"]) == 3
    assert client.get("/api/v1/models/?page=99").status_code == 404
    assert client.get("/api/v1/models/?risk_tier=enormous").status_code == 400


def test_list_endpoints_cost_the_same_number_of_queries_for_any_page_size(
    client, team, django_assert_max_num_queries
):
    """A page costs a constant number of queries, whatever its size."""

    def build(n):
        for _ in range(n):
            dv = DatasetVersionFactory(dataset__owner_team=team)
            run = RunFactory(team=team, inputs=[(dv, "train")])
            ModelVersionFactory(
                registered_model__owner_team=team, run=run, registered_model__tags=["t"]
            )

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    build(2)
    client.get("/api/v1/models/")  # the user's roles are read once per request user object
    small = {u: count(u) for u in ("/api/v1/models/", "/api/v1/runs/", "/api/v1/datasets/")}
    build(8)
    for url, queries in small.items():
        assert count(url) == queries, url


def test_versions_list_is_constant_in_queries(client, team):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    model = RegisteredModelFactory(owner_team=team)
    dv = DatasetVersionFactory()

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/api/v1/models/{model.name}/versions/").status_code == 200
        return len(ctx.captured_queries)

    ModelVersionFactory(registered_model=model, datasets=[(dv, "train")])
    count()  # the user's roles are read once per request user object
    before = count()
    for _ in range(6):
        ModelVersionFactory(registered_model=model, datasets=[(dv, "train")])
    assert count() == before


def test_update_changes_description_but_never_provenance(client, team):
    version = ModelVersionFactory(registered_model__owner_team=team)
    url = f"/api/v1/models/{version.registered_model.name}/versions/1/"
    response = client.patch(
        url,
        {"description": "better", "artifact_sha256": fake_sha256("evil"), "status": "production"},
        format="json",
    )
    assert response.status_code == 200
    version.refresh_from_db()
    assert version.description == "better"
    assert version.artifact_sha256 != fake_sha256("evil")
    assert version.status == "draft"
    assert client.put(url, {}, format="json").status_code == 405
    assert client.delete(url).status_code == 405


def test_dataset_versions_record_parents(client, team):
    DatasetFactory(name="loans", owner_team=team)
    for i in (1, 2):
        response = client.post(
            "/api/v1/datasets/loans/versions/",
            {
                "uri": f"s3://{i}",
                "content_hash": fake_sha256(i),
                "derived_from": [{"dataset": "loans", "version": 1}] if i == 2 else [],
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
    body = client.get("/api/v1/datasets/loans/versions/2/").json()
    assert body["derived_from"] == [{"dataset": "loans", "version": 1}]


# --- artifacts -------------------------------------------------------------------------------


def test_upload_streams_hashes_and_stores_once(client, contributor, settings):
    payload = b"model-bytes" * 50_000
    digest = hashlib.sha256(payload).hexdigest()
    first = client.post(
        "/api/v1/artifacts/?filename=model.pkl", payload, content_type="application/octet-stream"
    )
    assert first.status_code == 201, first.content
    assert first.json()["sha256"] == digest
    assert first.json()["size_bytes"] == len(payload)
    assert first.json()["uri"] == f"steward://artifacts/{digest}"

    from django.core.files.uploadedfile import SimpleUploadedFile

    again = client.post(
        "/api/v1/artifacts/",
        {"file": SimpleUploadedFile("copy.pkl", payload)},
        format="multipart",
    )
    assert again.status_code == 200
    assert Artifact.objects.count() == 1
    stored = [p for p in (settings.ARTIFACT_ROOT / "sha256").rglob("*") if p.is_file()]
    assert len(stored) == 1 and stored[0].read_bytes() == payload
    assert not any((settings.ARTIFACT_ROOT / "tmp").iterdir())

    download = client.get(f"/api/v1/artifacts/{digest}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == payload
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in download["Content-Disposition"]

    version = client.post(
        f"/api/v1/models/{RegisteredModelFactory(owner_team=contributor.teams.first()).name}"
        "/versions/",
        {"artifact": digest},
        format="json",
    )
    assert version.status_code == 201, version.json()
    assert version.json()["artifact_stored"] is True
    assert version.json()["artifact_size"] == len(payload)


def test_an_upload_over_the_limit_is_a_413_and_leaves_nothing(client, settings):
    settings.ARTIFACT_MAX_BYTES = 1000
    response = client.post(
        "/api/v1/artifacts/", b"x" * 5000, content_type="application/octet-stream"
    )
    assert response.status_code == 413
    assert "limit" in response.json()["message"]
    assert not Artifact.objects.exists()
    assert not any((settings.ARTIFACT_ROOT / "tmp").iterdir())


def test_an_upload_over_the_limit_is_refused_while_streaming(client, settings):
    """A client that understates Content-Length is cut off by the handler, not trusted."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.ARTIFACT_MAX_BYTES = 1000
    response = client.post(
        "/api/v1/artifacts/",
        {"file": SimpleUploadedFile("big.bin", b"y" * 3000)},
        format="multipart",
    )
    assert response.status_code == 413
    assert not Artifact.objects.exists()


def test_an_upload_without_a_file_is_a_400(client):
    response = client.post("/api/v1/artifacts/", {"other": "x"}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()["errors"]


def test_the_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/models/{name}/" in schema.content
    assert b"/api/v1/models/{model_name}/versions/{version}/lineage/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    # Swagger UI comes from the app's own static files; nothing is loaded from a CDN.
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs.content
    assert b"cdn." not in docs.content and b"jsdelivr" not in docs.content


def test_api_writes_are_audited_with_the_real_actor_and_address(contributor, team):
    """auditlog's middleware runs before DRF authenticates; the API binds the actor itself."""
    from auditlog.models import LogEntry

    from tests.factories import PASSWORD

    api = APIClient(REMOTE_ADDR="203.0.113.7")
    api.credentials(HTTP_AUTHORIZATION=_basic("carol", PASSWORD))
    response = api.post(
        "/api/v1/models/", {"name": "audited", "owner_team": team.slug}, format="json"
    )
    assert response.status_code == 201
    entry = LogEntry.objects.get_for_object(RegisteredModel.objects.get(name="audited")).get()
    assert entry.actor == contributor
    assert entry.remote_addr == "203.0.113.7"


def _basic(username: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
