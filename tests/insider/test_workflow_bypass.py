"""Insiders trying to get a version approved without the review its risk demands.

Each test is an attack from the assessment (issue #12, items 1, 2 and 7), tried the way the
attacker would: through the API with their own account or token. Each asserts the refusal, that
nothing changed, and what the audit chain holds afterwards.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.choices import RoleName
from accounts.services import role_assign, token_create
from core.models import AuditEvent
from governance.choices import Action
from governance.models import Annotation, Decision
from governance.services import annotation_create
from registry.choices import RiskTier
from registry.choices import VersionStatus as S
from registry.models import RegisteredModel
from tests.factories import (
    ModelVersionFactory,
    RegisteredModelFactory,
    TeamFactory,
    UserFactory,
    approval_sections_write,
    version_decide,
)

pytestmark = pytest.mark.django_db
WHY = "Reviewed the evidence and the lineage in full."


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def token_client(user, *scopes) -> APIClient:
    _, secret = token_create(actor=user, name="ci", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def act(user, version, action):
    return version_decide(actor=user, version=version, action=action, motivation=WHY)


@pytest.fixture
def second_validator(db):
    user = UserFactory(username="vince")
    role_assign(user=user, role=RoleName.VALIDATOR)
    return user


@pytest.fixture
def high_model(team):
    return RegisteredModelFactory(name="credit", owner_team=team, risk_tier=RiskTier.HIGH)


@pytest.fixture
def in_validation(high_model, contributor, validator):
    version = ModelVersionFactory(actor=contributor, registered_model=high_model)
    act(contributor, version, Action.SUBMIT)
    act(validator, version, Action.CLAIM)
    return version


def chain_size() -> int:
    return AuditEvent.objects.count()


def summary(user, version) -> dict:
    url = f"/api/v1/models/{version.registered_model.name}/versions/{version.version}/governance/"
    return api(user).get(url).json()


# --- 1. Risk tier downgrade ------------------------------------------------------------------


def test_the_developer_cannot_lower_the_tier_of_a_model_under_review(
    in_validation, contributor, validator, manager
):
    """The attack: lower to 'low' while v1 is in validation, get one sign-off, raise it back,
    approve. The first step is refused, so one sign-off leaves the version in validation."""
    events = chain_size()
    response = api(contributor).patch("/api/v1/models/credit/", {"risk_tier": "low"}, format="json")

    assert response.status_code == 409
    assert "reclassification" in response.json()["message"]
    assert RegisteredModel.objects.get(name="credit").risk_tier == RiskTier.HIGH
    assert chain_size() == events

    act(validator, in_validation, Action.SIGN_OFF)
    in_validation.refresh_from_db()
    assert in_validation.status == S.IN_VALIDATION
    assert summary(manager, in_validation)["required_sign_offs"] == 2


def test_the_developer_cannot_move_the_model_to_a_friendlier_team(in_validation, contributor, team):
    friendly = TeamFactory(name="Friends", slug="friends")
    role_assign(user=contributor, role=RoleName.CONTRIBUTOR, team=friendly)
    events = chain_size()

    response = api(contributor).patch(
        "/api/v1/models/credit/", {"owner_team": "friends"}, format="json"
    )

    assert response.status_code in (400, 409)
    assert RegisteredModel.objects.get(name="credit").owner_team == team
    assert chain_size() == events


def test_a_contributor_cannot_reclassify(in_validation, contributor):
    events, decisions = chain_size(), Decision.objects.count()
    response = api(contributor).post(
        "/api/v1/models/credit/reclassify/",
        {"risk_tier": "low", "motivation": "It is not that risky after all."},
        format="json",
    )
    assert response.status_code == 403
    assert RegisteredModel.objects.get(name="credit").risk_tier == RiskTier.HIGH
    assert (chain_size(), Decision.objects.count()) == (events, decisions)


def test_a_lower_tier_never_relaxes_a_version_already_submitted(
    in_validation, administrator, validator, manager
):
    """Even the administrator's reclassification to 'low' keeps v1 under the high policy it
    was submitted under: two sign-offs, as the summary says."""
    response = api(administrator).post(
        "/api/v1/models/credit/reclassify/",
        {"risk_tier": "low", "motivation": "Only used for internal reporting now."},
        format="json",
    )
    assert response.status_code == 201, response.json()
    [decision] = response.json()
    assert decision["action"] == "reclassify"
    event = AuditEvent.objects.filter(action="version.reclassify").get()
    assert event.data["motivation"].startswith("Only used for internal reporting now.")
    assert AuditEvent.objects.filter(action="model.reclassify").get().data["changes"] == {
        "risk_tier": {"from": "high", "to": "low"}
    }

    act(validator, in_validation, Action.SIGN_OFF)
    in_validation.refresh_from_db()
    assert in_validation.status == S.IN_VALIDATION
    assert summary(manager, in_validation)["required_sign_offs"] == 2


def test_a_reclassification_needs_a_motivation(in_validation, administrator):
    events = chain_size()
    response = api(administrator).post(
        "/api/v1/models/credit/reclassify/", {"risk_tier": "low", "motivation": ""}, format="json"
    )
    assert response.status_code == 400
    assert RegisteredModel.objects.get(name="credit").risk_tier == RiskTier.HIGH
    assert chain_size() == events


def test_a_stricter_tier_reopens_a_version_in_production_until_it_has_the_sign_offs(
    team, contributor, validator, second_validator, manager, administrator
):
    model = RegisteredModelFactory(name="churn", owner_team=team, risk_tier=RiskTier.MEDIUM)
    version = ModelVersionFactory(actor=contributor, registered_model=model)
    for user, action in (
        (contributor, Action.SUBMIT),
        (validator, Action.CLAIM),
        (validator, Action.SIGN_OFF),
        (manager, Action.APPROVE),
        (manager, Action.PROMOTE),
    ):
        act(user, version, action)
    version.refresh_from_db()
    assert version.status == S.PRODUCTION

    response = api(administrator).post(
        "/api/v1/models/churn/reclassify/",
        {"risk_tier": "high", "motivation": "It now decides credit limits."},
        format="json",
    )
    assert response.status_code == 201
    version.refresh_from_db()
    assert version.status == S.FLAGGED
    assert "not met" in Decision.objects.filter(action=Action.RECLASSIFY).get().motivation

    clear = {"action": "clear_flag", "motivation": WHY}
    url = "/api/v1/models/churn/versions/1/transitions/"
    refused = api(manager).post(url, clear, format="json")
    assert refused.status_code == 409
    assert "1 of 2" in refused.json()["message"]

    act(second_validator, version, Action.SIGN_OFF)
    # High risk also owes the validation report, written by the validators: not yet.
    owed = api(manager).post(url, clear, format="json")
    assert owed.status_code == 409
    assert "SR 11-7 model validation report: not written yet" in owed.json()["message"]
    approval_sections_write(version, validator=second_validator)
    assert api(manager).post(url, clear, format="json").status_code == 201
    version.refresh_from_db()
    assert version.status == S.PRODUCTION
    assert summary(manager, version)["sign_offs"] == 2


def test_the_admin_console_refuses_a_tier_change_under_review(client, in_validation):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    model = in_validation.registered_model
    response = client.post(
        f"/admin/registry/registeredmodel/{model.pk}/change/",
        {
            "description": model.description,
            "owner_team": model.owner_team_id,
            "risk_tier": "low",
            "versions-TOTAL_FORMS": "0",
            "versions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200  # the form again, with the reason
    assert "reclassification" in response.content.decode()
    assert RegisteredModel.objects.get(pk=model.pk).risk_tier == RiskTier.HIGH


def test_a_former_submitter_cannot_validate_after_a_colleague_resubmits(
    high_model, team, contributor, teammate, validator
):
    """Beyond the assessment: Carol (also a validator) submits, changes are requested, her
    colleague resubmits, and Carol tries to sign off the new round as if independent."""
    role_assign(user=contributor, role=RoleName.VALIDATOR)
    version = ModelVersionFactory(actor=teammate, registered_model=high_model)
    act(contributor, version, Action.SUBMIT)
    act(validator, version, Action.CLAIM)
    act(validator, version, Action.REQUEST_CHANGES)
    act(teammate, version, Action.SUBMIT)
    act(validator, version, Action.CLAIM)

    response = api(contributor).post(
        "/api/v1/models/credit/versions/1/transitions/",
        {"action": "sign_off", "motivation": WHY},
        format="json",
    )

    assert response.status_code == 403
    assert "You submitted this version" in response.json()["message"]
    assert not Decision.objects.filter(action=Action.SIGN_OFF).exists()


# --- 2. Findings resolved by the developer, and a rewritten description -----------------------


def test_the_developer_cannot_resolve_the_validators_finding(in_validation, contributor, validator):
    finding = annotation_create(
        actor=validator, target=in_validation, kind="finding", body="Target leakage."
    )
    events = chain_size()

    response = api(contributor).post(
        f"/api/v1/annotations/{finding.pk}/resolve/",
        {"motivation": "Not a real problem, closing."},
        format="json",
    )

    assert response.status_code == 403
    finding.refresh_from_db()
    assert finding.is_open
    assert chain_size() == events


def test_a_developer_who_is_also_a_validator_cannot_resolve_it_either(high_model, team, validator):
    """Holding the validator role does not make the registrant independent of their version."""
    dual = UserFactory(username="dual")
    role_assign(user=dual, role=RoleName.CONTRIBUTOR, team=team)
    role_assign(user=dual, role=RoleName.VALIDATOR)
    version = ModelVersionFactory(actor=dual, registered_model=high_model)
    act(dual, version, Action.SUBMIT)
    finding = annotation_create(actor=validator, target=version, kind="finding", body="Leak.")

    response = api(dual).post(
        f"/api/v1/annotations/{finding.pk}/resolve/", {"motivation": WHY}, format="json"
    )

    assert response.status_code == 403
    assert Annotation.objects.get(pk=finding.pk).is_open


def test_the_author_resolves_with_a_motivation_in_the_chain(in_validation, validator):
    finding = annotation_create(
        actor=validator, target=in_validation, kind="finding", body="Target leakage."
    )
    response = api(validator).post(
        f"/api/v1/annotations/{finding.pk}/resolve/",
        {"motivation": "Re-ran without the leaking column."},
        format="json",
    )
    assert response.status_code == 200
    event = AuditEvent.objects.filter(action="annotation.resolve").get()
    assert event.data["motivation"] == "Re-ran without the leaking column."
    assert event.actor_username == "vera"


def test_the_description_cannot_be_rewritten_after_submission(in_validation, contributor):
    events = chain_size()
    response = api(contributor).patch(
        "/api/v1/models/credit/versions/1/",
        {"description": "## Governance record\n\nApproved by the board."},
        format="json",
    )
    assert response.status_code == 409
    in_validation.refresh_from_db()
    assert "Governance record" not in in_validation.description
    assert chain_size() == events


# --- 7. Token scopes ---------------------------------------------------------------------------


def test_a_write_token_cannot_sign_off(in_validation, second_validator):
    client = token_client(second_validator, "write", "read")
    decisions_chained = AuditEvent.objects.filter(action__startswith="version.").count()
    response = client.post(
        "/api/v1/models/credit/versions/1/transitions/",
        {"action": "sign_off", "motivation": WHY},
        format="json",
    )
    assert response.status_code == 403
    assert "'validate' scope" in response.json()["message"]
    assert not Decision.objects.filter(action=Action.SIGN_OFF).exists()
    # Nothing but, at most, the record of the token's use.
    assert AuditEvent.objects.filter(action__startswith="version.").count() == decisions_chained
    ok = token_client(second_validator, "validate").post(
        "/api/v1/models/credit/versions/1/transitions/",
        {"action": "sign_off", "motivation": WHY},
        format="json",
    )
    assert ok.status_code == 201


def test_annotating_needs_the_annotate_scope(in_validation, validator):
    body = {"target_type": "model_version", "target": "credit/1", "kind": "note", "body": "Hi"}
    refused = token_client(validator, "write", "read").post(
        "/api/v1/annotations/", body, format="json"
    )
    assert refused.status_code == 403
    assert not Annotation.objects.exists()
    assert (
        token_client(validator, "annotate")
        .post("/api/v1/annotations/", body, format="json")
        .status_code
        == 201
    )


def test_the_scope_is_that_of_the_state_found_under_the_lock(in_validation, validator):
    """The service, not the view, picks the scope, after locking the row: a token scoped for
    one step cannot take another one because the state moved in between."""
    from governance.errors import NotPermittedToDecide

    with pytest.raises(NotPermittedToDecide, match="'validate' scope"):
        version_decide(
            actor=validator,
            version=in_validation,
            action=Action.SIGN_OFF,
            motivation=WHY,
            token_scopes=["submit", "approve"],
        )
    assert not Decision.objects.filter(action=Action.SIGN_OFF).exists()


def test_the_request_id_of_a_decision_is_the_servers(in_validation, validator):
    response = api(validator).post(
        "/api/v1/models/credit/versions/1/transitions/",
        {"action": "sign_off", "motivation": WHY},
        format="json",
        HTTP_X_REQUEST_ID="forged-request-id",
    )
    assert response.status_code == 201
    decision = Decision.objects.get(action=Action.SIGN_OFF)
    assert decision.request_id != "forged-request-id"
