"""/api/v1/models/{name}/aliases/: list, read, set (PUT) and remove (DELETE) a model's aliases,
and the aliases shown (read-only) on the model and its versions."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.services import token_create
from core.models import AuditEvent
from governance.choices import Action
from governance.services.aliases import model_alias_set
from registry.models import ModelAlias, ModelAliasMove
from tests.factories import ModelVersionFactory, RegisteredModelFactory, version_decide

pytestmark = pytest.mark.django_db
WHY = "The new build beats the old one on every holdout."
URL = "/api/v1/models/churn/aliases/"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def token_client(user, *scopes) -> APIClient:
    _, secret = token_create(actor=user, name="ci", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    # The first use of a token is recorded in the chain; later uses are not.
    client.get("/api/v1/models/")
    return client


@pytest.fixture
def model(team):
    return RegisteredModelFactory(owner_team=team, name="churn")


@pytest.fixture
def draft(model, contributor):
    return ModelVersionFactory(actor=contributor, registered_model=model)


@pytest.fixture
def approved(model, contributor, validator, manager, draft):
    version = ModelVersionFactory(actor=contributor, registered_model=model)
    for actor, action in (
        (contributor, Action.SUBMIT),
        (validator, Action.CLAIM),
        (validator, Action.SIGN_OFF),
        (manager, Action.APPROVE),
    ):
        version_decide(actor=actor, version=version, action=action, motivation=WHY)
    return version


def untouched(call):
    """Run a refused call; nothing may change."""
    before = (
        list(ModelAlias.objects.values_list("name", "version")),
        ModelAliasMove.objects.count(),
        AuditEvent.objects.count(),
    )
    response = call()
    after = (
        list(ModelAlias.objects.values_list("name", "version")),
        ModelAliasMove.objects.count(),
        AuditEvent.objects.count(),
    )
    assert after == before
    return response


def test_a_contributor_sets_reads_lists_and_removes_an_alias(model, draft, contributor):
    client = api(contributor)
    response = client.put(f"{URL}challenger/", {"version": 1, "motivation": WHY}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["model"] == "churn" and body["alias"] == "challenger"
    assert (body["version"], body["version_status"]) == (1, "draft")
    assert body["protected"] is False and body["set_by"] == "carol"
    assert client.get(f"{URL}challenger/").json() == body
    assert client.get(URL).json() == [body]
    assert AuditEvent.objects.latest("sequence").action == "model.alias_set"

    response = client.delete(f"{URL}challenger/", {"motivation": WHY}, format="json")
    assert response.status_code == 204
    assert client.get(URL).json() == []
    assert client.get(f"{URL}challenger/").status_code == 404


def test_aliases_show_on_the_model_and_its_versions(model, draft, approved, contributor, manager):
    model_alias_set(actor=manager, model=model, alias="champion", version=approved, motivation=WHY)
    model_alias_set(
        actor=contributor, model=model, alias="challenger", version=draft, motivation=WHY
    )
    client = api(contributor)
    assert client.get("/api/v1/models/churn/").json()["aliases"] == [
        {"alias": "challenger", "version": 1},
        {"alias": "champion", "version": 2},
    ]
    versions = client.get("/api/v1/models/churn/versions/").json()["results"]
    assert {v["version"]: v["aliases"] for v in versions} == {1: ["challenger"], 2: ["champion"]}
    listed = client.get("/api/v1/models/", {"name__startswith": "churn"}).json()["results"]
    assert listed[0]["aliases"][1] == {"alias": "champion", "version": 2}


def test_aliases_are_read_only_on_the_model_and_version(model, draft, contributor):
    client = api(contributor)
    client.patch(
        "/api/v1/models/churn/versions/1/",
        {"description": "x", "aliases": ["champion"]},
        format="json",
    )
    client.patch("/api/v1/models/churn/", {"aliases": [{"alias": "prod"}]}, format="json")
    assert not ModelAlias.objects.exists()


def test_champion_on_a_draft_is_a_conflict(model, draft, manager):
    response = untouched(
        lambda: api(manager).put(
            f"{URL}champion/", {"version": 1, "motivation": WHY}, format="json"
        )
    )
    assert response.status_code == 409
    assert "approved or production" in response.json()["message"]


def test_champion_by_a_contributor_is_forbidden(model, approved, contributor):
    response = untouched(
        lambda: api(contributor).put(
            f"{URL}champion/", {"version": 2, "motivation": WHY}, format="json"
        )
    )
    assert response.status_code == 403
    assert "deploy" in response.json()["message"]


def test_a_manager_token_needs_the_deploy_scope(model, approved, manager):
    writer = token_client(manager, "read", "write")
    refused = untouched(
        lambda: writer.put(f"{URL}champion/", {"version": 2, "motivation": WHY}, format="json")
    )
    assert refused.status_code == 403
    response = token_client(manager, "deploy").put(
        f"{URL}champion/", {"version": 2, "motivation": WHY}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["protected"] is True


def test_a_read_token_reads_but_may_not_move(model, draft, contributor):
    model_alias_set(
        actor=contributor, model=model, alias="challenger", version=draft, motivation=WHY
    )
    client = token_client(contributor, "read")
    assert client.get(URL).status_code == 200
    put = untouched(
        lambda: client.put(f"{URL}challenger/", {"version": 1, "motivation": WHY}, format="json")
    )
    assert put.status_code == 403
    delete = untouched(
        lambda: client.delete(f"{URL}challenger/", {"motivation": WHY}, format="json")
    )
    assert delete.status_code == 403


def test_an_outsider_gets_404_everywhere(model, draft, contributor, outsider):
    model_alias_set(
        actor=contributor, model=model, alias="challenger", version=draft, motivation=WHY
    )
    client = api(outsider)
    assert client.get(URL).status_code == 404
    assert client.get(f"{URL}challenger/").status_code == 404
    put = untouched(
        lambda: client.put(f"{URL}challenger/", {"version": 1, "motivation": WHY}, format="json")
    )
    assert put.status_code == 404
    delete = untouched(
        lambda: client.delete(f"{URL}challenger/", {"motivation": WHY}, format="json")
    )
    assert delete.status_code == 404


def test_a_member_without_a_role_reads_but_may_not_move(model, draft, member):
    client = api(member)
    assert client.get(URL).status_code == 200
    response = untouched(
        lambda: client.put(f"{URL}challenger/", {"version": 1, "motivation": WHY}, format="json")
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "alias, body, field",
    [
        ("challenger", {"version": 1}, "motivation"),
        ("challenger", {"version": 1, "motivation": "short"}, "motivation"),
        ("challenger", {"motivation": WHY}, "version"),
        ("challenger", {"version": 99, "motivation": WHY}, "version"),
        ("challenger", {"version": "one", "motivation": WHY}, "version"),
        ("challenger", {"version": -1, "motivation": WHY}, "version"),
        ("challenger", {"version": 2**40, "motivation": WHY}, "version"),
        ("latest", {"version": 1, "motivation": WHY}, "alias"),
        ("v2", {"version": 1, "motivation": WHY}, "alias"),
        ("x" * 256, {"version": 1, "motivation": WHY}, "alias"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(model, draft, contributor, alias, body, field):
    response = untouched(lambda: api(contributor).put(f"{URL}{alias}/", body, format="json"))
    assert response.status_code == 400, response.json()
    assert field in response.json().get("errors", response.json()), response.json()


def test_deleting_without_a_motivation_is_a_400(model, draft, contributor):
    model_alias_set(
        actor=contributor, model=model, alias="challenger", version=draft, motivation=WHY
    )
    response = untouched(lambda: api(contributor).delete(f"{URL}challenger/"))
    assert response.status_code == 400


def test_a_version_of_another_team_is_not_a_version_of_this_model(
    model, draft, contributor, outsider, other_team
):
    RegisteredModelFactory(owner_team=other_team, name="secret")
    response = untouched(
        lambda: api(contributor).put(
            "/api/v1/models/secret/aliases/challenger/",
            {"version": 1, "motivation": WHY},
            format="json",
        )
    )
    assert response.status_code == 404
