"""Insiders trying to put their own build behind ``champion`` or to make evidence disappear.

Each test is an attack tried the way the attacker would: through the API with their own account
or token. Each asserts the refusal, that nothing changed, and what the audit chain holds
afterwards."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.services import token_create
from core.errors import Conflict, Forbidden
from core.eventlog import audit_chain_verify
from core.models import AuditEvent
from governance.choices import Action
from governance.services import (
    model_alias_set,
    model_version_delete,
    registered_model_delete,
)
from registry.models import ModelAlias, ModelAliasMove, ModelVersion
from tests.factories import ModelVersionFactory, RegisteredModelFactory, version_decide

pytestmark = pytest.mark.django_db
WHY = "Reviewed the evidence and the lineage in full."
ALIASES = "/api/v1/models/credit-scoring/aliases/"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def token_client(user, *scopes) -> APIClient:
    _, secret = token_create(actor=user, name="ci", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/api/v1/models/").status_code == 200  # its first use is recorded
    return client


@pytest.fixture
def model(team):
    return RegisteredModelFactory(owner_team=team, name="credit-scoring")


@pytest.fixture
def approved(model, contributor, validator, manager) -> ModelVersion:
    version = ModelVersionFactory(actor=contributor, registered_model=model)
    for actor, action in (
        (contributor, Action.SUBMIT),
        (validator, Action.CLAIM),
        (validator, Action.SIGN_OFF),
        (manager, Action.APPROVE),
    ):
        version_decide(actor=actor, version=version, action=action, motivation=WHY)
    version.refresh_from_db()
    return version


@pytest.fixture
def own_draft(model, contributor, approved) -> ModelVersion:
    """Carol's unreviewed build, v2."""
    return ModelVersionFactory(actor=contributor, registered_model=model)


def chain_head() -> int:
    return AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first()


def nothing_moved(before_head: int) -> None:
    assert chain_head() == before_head
    assert not ModelAliasMove.objects.exists()


def test_a_contributor_cannot_point_champion_at_their_own_draft(own_draft, contributor):
    head = chain_head()
    response = api(contributor).put(
        f"{ALIASES}champion/", {"version": 2, "motivation": WHY}, format="json"
    )
    assert response.status_code == 403
    nothing_moved(head)
    assert not ModelAlias.objects.exists()


@pytest.mark.parametrize("spelling", ["Champion", "CHAMPION", "prod", "Production"])
def test_another_spelling_of_a_protected_alias_is_just_as_protected(
    own_draft, contributor, spelling
):
    head = chain_head()
    response = api(contributor).put(
        f"{ALIASES}{spelling}/", {"version": 2, "motivation": WHY}, format="json"
    )
    assert response.status_code == 403
    nothing_moved(head)


def test_a_contributor_cannot_move_champion_even_to_an_approved_version(
    model, approved, own_draft, contributor, manager
):
    """Carol cannot take champion off the approved version either, nor re-point it: moving a
    protected alias is a deploy decision."""
    model_alias_set(actor=manager, model=model, alias="champion", version=approved, motivation=WHY)
    head = chain_head()
    client = api(contributor)
    put = client.put(f"{ALIASES}champion/", {"version": 1, "motivation": WHY}, format="json")
    delete = client.delete(f"{ALIASES}champion/", {"motivation": WHY}, format="json")
    assert (put.status_code, delete.status_code) == (403, 403)
    assert chain_head() == head
    assert ModelAlias.objects.get().version == approved
    assert ModelAliasMove.objects.count() == 1


def test_a_stolen_token_without_the_deploy_scope_cannot_move_champion(model, approved, manager):
    """Max's CI token (read, write, approve) leaked: it still cannot move champion."""
    stolen = token_client(manager, "read", "write", "approve")
    head = chain_head()
    response = stolen.put(f"{ALIASES}champion/", {"version": 1, "motivation": WHY}, format="json")
    assert response.status_code == 403
    assert "'deploy' scope" in response.json()["message"]
    nothing_moved(head)


def test_a_manager_cannot_point_champion_at_an_unreviewed_draft(own_draft, manager):
    head = chain_head()
    response = api(manager).put(
        f"{ALIASES}champion/", {"version": 2, "motivation": WHY}, format="json"
    )
    assert response.status_code == 409
    nothing_moved(head)


@pytest.mark.parametrize("state", ["submitted", "approved"])
def test_a_developer_cannot_delete_a_version_under_review_or_approved(
    model, contributor, administrator, approved, state
):
    """Neither the developer nor an administrator makes a reviewed version disappear."""
    version = approved
    if state == "submitted":
        version = ModelVersionFactory(actor=contributor, registered_model=model)
        version_decide(actor=contributor, version=version, action=Action.SUBMIT, motivation=WHY)
    head = chain_head()
    for actor in (contributor, administrator):
        with pytest.raises((Forbidden, Conflict)):
            model_version_delete(actor=actor, version=version)
    with pytest.raises(Conflict) as caught:
        registered_model_delete(actor=administrator, model=model)
    assert "it is approved" in str(caught.value)  # v1, the first version judged
    assert chain_head() == head
    assert ModelVersion.objects.filter(pk=version.pk).exists()


def test_deleting_a_draft_leaves_its_snapshot_in_the_chain(model, own_draft, administrator):
    sha256, pk = own_draft.artifact_sha256, own_draft.pk
    model_version_delete(actor=administrator, version=own_draft)
    assert not ModelVersion.objects.filter(pk=pk).exists()
    event = AuditEvent.objects.get(action="version.delete")
    assert event.scope_version == "credit-scoring/2"
    assert event.data["artifact_sha256"] == sha256
    assert event.data["registered_by"] == "carol"
    assert event.data["status"] == "draft"
    assert audit_chain_verify().ok
    # Its number is not handed to the next build, so the snapshot names one build only.
    assert ModelVersionFactory(registered_model=model).version == 3
