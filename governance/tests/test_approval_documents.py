"""Documents a policy wants written before approval: the shipped policies ask for the model
card on every tier and for the validation report on high and critical risk, so no version is
approved (and reaches production) with "Validator's assessment: not written yet" in its report.

The sections are written by the roles their templates name; the developer cannot write the
validator's assessment to get past the check, and lowering the tier mid-review does not drop the
requirement."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.choices import RoleName
from accounts.services import role_assign
from core.errors import Forbidden
from core.eventlog import AuditEvent
from governance.choices import Action
from governance.constants import DEFAULT_POLICIES, MODEL_CARD, VALIDATION_REPORT
from governance.errors import GuardsFailed
from governance.guards import policy_report
from governance.models import Policy
from governance.services import model_reclassify, version_transition
from governance.services.documents import free_text_write
from registry.choices import RiskTier
from registry.choices import VersionStatus as S
from tests.factories import ModelVersionFactory, RegisteredModelFactory, UserFactory

pytestmark = pytest.mark.django_db
WHY = "Evidence reviewed; the hold-out metrics reproduce."
CARD_SECTIONS = ("intended_use", "factors", "ethical_considerations", "caveats")


@pytest.fixture
def second_validator(db):
    user = UserFactory(username="vince", email="vince@example.org")
    role_assign(user=user, role=RoleName.VALIDATOR)
    return user


@pytest.fixture
def high(team, contributor):
    model = RegisteredModelFactory(owner_team=team, name="churn", risk_tier=RiskTier.HIGH)
    return ModelVersionFactory(actor=contributor, registered_model=model)


def write(actor, version, template, section, text="Written for the review of this version."):
    return free_text_write(
        actor=actor, version=version, template_name=template, section_key=section, text=text
    )


def decide(actor, version, action):
    decision = version_transition(actor=actor, version=version, action=action, motivation=WHY)
    version.refresh_from_db()
    return decision


def validated(version, contributor, validator, second_validator):
    for section in CARD_SECTIONS:
        write(contributor, version, MODEL_CARD, section)
    decide(contributor, version, Action.SUBMIT)
    decide(validator, version, Action.CLAIM)
    decide(validator, version, Action.SIGN_OFF)
    decide(second_validator, version, Action.SIGN_OFF)
    assert version.status == S.VALIDATED


def test_the_shipped_policies_require_the_model_card_and_on_high_risk_the_validation_report():
    policies = {p.risk_tier: p for p in Policy.objects.all()}
    assert policies[RiskTier.LOW].approval_documents == [MODEL_CARD]
    assert policies[RiskTier.MEDIUM].approval_documents == [MODEL_CARD]
    assert policies[RiskTier.HIGH].approval_documents == [MODEL_CARD, VALIDATION_REPORT]
    assert policies[RiskTier.CRITICAL].approval_documents == [MODEL_CARD, VALIDATION_REPORT]
    for tier, defaults in DEFAULT_POLICIES.items():
        assert policies[tier].description == defaults["description"]
        assert "written" in policies[tier].description


def test_a_high_risk_version_is_approved_only_once_the_validator_wrote_the_assessment(
    high, contributor, validator, second_validator, manager
):
    validated(high, contributor, validator, second_validator)

    with pytest.raises(GuardsFailed) as refused:
        decide(manager, high, Action.APPROVE)
    message = str(refused.value)
    assert "Documents written" in message
    assert "not written yet" in message
    assert "Validator's assessment of conceptual soundness' (by a validator)" in message
    assert "'Limitations' (by a validator)" in message
    assert "Model Card" not in message  # the developer wrote theirs before submitting
    high.refresh_from_db()
    assert high.status == S.VALIDATED

    # The developer cannot write the validator's part to get past the check.
    with pytest.raises(Forbidden):
        write(contributor, high, VALIDATION_REPORT, "validator_assessment")

    write(validator, high, VALIDATION_REPORT, "validator_assessment", "Sound and reproducible.")
    with pytest.raises(GuardsFailed, match="'Limitations' \\(by a validator\\)"):
        decide(manager, high, Action.APPROVE)

    write(second_validator, high, VALIDATION_REPORT, "limitations", "One institution only.")
    decide(manager, high, Action.APPROVE)
    assert high.status == S.APPROVED
    written = {g.name: g for g in policy_report(high)}["approval_documents"]
    assert written.passed
    assert written.reason == f"Every section written: {MODEL_CARD}, {VALIDATION_REPORT}."


def test_the_model_card_is_owed_on_a_low_risk_version_too(team, contributor, validator, manager):
    model = RegisteredModelFactory(owner_team=team, name="lead-score", risk_tier=RiskTier.LOW)
    version = ModelVersionFactory(actor=contributor, registered_model=model)
    decide(contributor, version, Action.SUBMIT)
    decide(validator, version, Action.CLAIM)
    decide(validator, version, Action.SIGN_OFF)

    with pytest.raises(GuardsFailed) as refused:
        decide(manager, version, Action.APPROVE)
    assert "Model Card: not written yet: 'Intended use' (by a developer)" in str(refused.value)
    # A validator may not write the developers' part for them.
    with pytest.raises(Forbidden):
        write(validator, version, MODEL_CARD, "intended_use")

    for section in CARD_SECTIONS:
        write(contributor, version, MODEL_CARD, section)
    decide(manager, version, Action.APPROVE)
    assert version.status == S.APPROVED


def test_lowering_the_tier_during_review_keeps_the_validation_report_owed(
    high, contributor, validator, second_validator, manager, administrator
):
    validated(high, contributor, validator, second_validator)
    model_reclassify(
        actor=administrator,
        model=high.registered_model,
        risk_tier=RiskTier.LOW,
        motivation="Reassessed as an internal tool with low impact.",
    )
    high.refresh_from_db()
    assert high.registered_model.risk_tier == RiskTier.LOW

    assert high.status == S.VALIDATED  # awaiting approval: the approval's own check applies
    with pytest.raises(GuardsFailed, match="SR 11-7 model validation report: not written yet"):
        decide(manager, high, Action.APPROVE)
    high.refresh_from_db()
    assert high.status == S.VALIDATED


def test_relaxing_a_policy_in_the_admin_is_on_the_record(client):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    policy = Policy.objects.get(risk_tier=RiskTier.HIGH)
    url = reverse("admin:governance_policy_change", args=[policy.pk])
    form = {
        "description": policy.description,
        "required_sign_offs": policy.required_sign_offs,
        "metric_checks": "",
        "required_documents": "",
        "approval_documents": "model-card\nvalidation-repport",
        "revalidation_days": policy.revalidation_days,
        "block_on_open_findings": "on",
    }

    refused = client.post(url, form)
    assert refused.status_code == 200
    assert "Not a documentation template: validation-repport" in refused.content.decode()
    policy.refresh_from_db()
    assert policy.approval_documents == [MODEL_CARD, VALIDATION_REPORT]

    assert client.post(url, {**form, "approval_documents": MODEL_CARD}).status_code == 302
    policy.refresh_from_db()
    assert policy.approval_documents == [MODEL_CARD]
    event = AuditEvent.objects.get(action="policy.change")
    assert event.actor == root
    assert event.data["changes"]["approval_documents"] == {
        "from": [MODEL_CARD, VALIDATION_REPORT],
        "to": [MODEL_CARD],
    }


def test_the_version_page_says_which_sections_are_owed(
    client, high, contributor, validator, second_validator, manager
):
    validated(high, contributor, validator, second_validator)
    client.force_login(manager)
    response = client.get(
        reverse("registry:model-version-detail", args=[high.registered_model.name, high.version])
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Documents written" in html
    assert "Validator&#x27;s assessment of conceptual soundness" in html
    assert 'value="approve"' not in html  # no approve button while sections are owed


def test_raising_the_tier_of_an_approved_version_owes_the_validation_report(
    team, contributor, validator, manager, administrator
):
    model = RegisteredModelFactory(owner_team=team, name="lead-score", risk_tier=RiskTier.LOW)
    version = ModelVersionFactory(actor=contributor, registered_model=model)
    for section in CARD_SECTIONS:
        write(contributor, version, MODEL_CARD, section)
    decide(contributor, version, Action.SUBMIT)
    decide(validator, version, Action.CLAIM)
    decide(validator, version, Action.SIGN_OFF)
    decide(manager, version, Action.APPROVE)

    (decision,) = model_reclassify(
        actor=administrator,
        model=model,
        risk_tier=RiskTier.HIGH,
        motivation="Now used for credit decisions: high impact on customers.",
    )
    version.refresh_from_db()
    assert version.status == S.IN_VALIDATION
    owed = "Documents written: SR 11-7 model validation report: not written yet"
    assert owed in decision.motivation
