"""Governance in the admin console: transition actions ask for a motivation and go through the
one transition service, refusals are reported with their reasons; policies are validated;
decisions cannot be edited; annotations are resolved through the service."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from governance.choices import Action, AnnotationKind
from governance.models import Decision, Policy
from governance.services import annotation_create, version_transition
from registry.choices import RiskTier
from registry.choices import VersionStatus as S
from tests.factories import ModelVersionFactory, RegisteredModelFactory

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:registry_modelversion_changelist"
WHY = "Evidence reviewed in the admin console."


@pytest.fixture
def staff_validator(client, validator):
    validator.is_staff = True
    validator.is_superuser = True  # sees every admin page; separation of duties still holds
    validator.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(validator)
    return validator


@pytest.fixture
def model(team, contributor):
    return RegisteredModelFactory(actor=contributor, owner_team=team, risk_tier=RiskTier.MEDIUM)


def submitted_version(model, contributor):
    version = ModelVersionFactory(actor=contributor, registered_model=model)
    version_transition(actor=contributor, version=version, action=Action.SUBMIT, motivation=WHY)
    return version


def run_action(client, action, versions, **extra):
    data = {"action": f"transition_{action}", "_selected_action": [v.pk for v in versions]}
    return client.post(reverse(CHANGELIST), {**data, **extra})


def notices(response) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def test_a_transition_action_first_asks_for_a_motivation(
    client, staff_validator, model, contributor
):
    version = submitted_version(model, contributor)

    response = run_action(client, Action.CLAIM, [version], index=0)

    assert response.status_code == 200
    assert "governance/admin_transition.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert "Claim for validation" in html and 'name="motivation"' in html
    assert "Ready." in html  # the preview of what will happen
    assert version.decisions.count() == 1


def test_the_action_calls_the_service_with_the_motivation(
    client, staff_validator, model, contributor
):
    version = submitted_version(model, contributor)

    response = run_action(client, Action.CLAIM, [version], motivation=WHY, apply="yes")

    assert response.status_code == 302
    version.refresh_from_db()
    assert version.status == S.IN_VALIDATION
    decision = version.decisions.latest("id")
    assert (decision.actor, decision.action, decision.motivation) == (
        staff_validator,
        Action.CLAIM,
        WHY,
    )
    assert notices(response) == [
        ("success", f"Claim for validation: recorded for {version.natural_key} → in validation.")
    ]


def test_a_missing_motivation_asks_again_and_changes_nothing(
    client, staff_validator, model, contributor
):
    version = submitted_version(model, contributor)

    response = run_action(client, Action.CLAIM, [version], motivation="ok", apply="yes")

    assert response.status_code == 200
    assert "Every decision needs a written motivation" in response.content.decode()
    version.refresh_from_db()
    assert version.status == S.SUBMITTED


def test_refusals_are_reported_with_their_reasons(client, staff_validator, model, contributor):
    claimable = submitted_version(model, contributor)
    draft = ModelVersionFactory(actor=contributor, registered_model=model)
    own = ModelVersionFactory(actor=staff_validator, registered_model=model)
    version_transition(actor=contributor, version=own, action=Action.SUBMIT, motivation=WHY)

    preview = run_action(client, Action.CLAIM, [claimable, draft, own], index=0)
    assert "Not possible from draft." in preview.content.decode()
    assert "You registered this version" in preview.content.decode()

    response = run_action(
        client, Action.CLAIM, [claimable, draft, own], motivation=WHY, apply="yes"
    )

    levels = notices(response)
    assert levels[0][0] == "success" and claimable.natural_key in levels[0][1]
    refusals = [message for level, message in levels if level == "warning"]
    assert len(refusals) == 2
    assert any(draft.natural_key in m and "cannot take 'claim'" in m for m in refusals)
    assert any(own.natural_key in m and "You registered this version" in m for m in refusals)
    draft.refresh_from_db()
    own.refresh_from_db()
    assert (draft.status, own.status) == (S.DRAFT, S.SUBMITTED)


def test_every_transition_is_offered_as_an_action(client, staff_validator, model, contributor):
    ModelVersionFactory(actor=contributor, registered_model=model)
    html = client.get(reverse(CHANGELIST)).content.decode()

    for action in Action.values:
        if action == Action.RECLASSIFY:  # a change of the model, taken through the API
            assert f'value="transition_{action}"' not in html
            continue
        assert f'value="transition_{action}"' in html


def test_a_policy_is_edited_with_validated_metric_checks(client, staff_validator):
    policy = Policy.objects.get(risk_tier=RiskTier.HIGH)
    url = reverse("admin:governance_policy_change", args=[policy.pk])
    form = {
        "description": "High risk.",
        "required_sign_offs": 3,
        "metric_checks": "auc >= 0.85\nauc is good",
        "required_documents": "",
        "revalidation_days": 180,
        "block_on_open_findings": "on",
    }

    refused = client.post(url, form)

    assert refused.status_code == 200
    assert "is not a metric check" in refused.content.decode()
    policy.refresh_from_db()
    assert policy.required_sign_offs == 2

    accepted = client.post(url, {**form, "metric_checks": "auc >= 0.85\n\nrecall > 0.9\n"})

    assert accepted.status_code == 302
    policy.refresh_from_db()
    assert policy.metric_checks == ["auc >= 0.85", "recall > 0.9"]
    assert policy.required_sign_offs == 3
    assert policy.revalidation_days == 180


def test_policies_are_never_deleted_nor_added_twice(client, staff_validator):
    policy = Policy.objects.first()
    assert client.get(reverse("admin:governance_policy_add")).status_code == 403
    delete = reverse("admin:governance_policy_delete", args=[policy.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Policy.objects.filter(pk=policy.pk).exists()


def test_decisions_cannot_be_edited_in_the_admin(client, staff_validator, model, contributor):
    version = submitted_version(model, contributor)
    decision = version.decisions.get()
    url = reverse("admin:governance_decision_change", args=[decision.pk])

    assert client.get(url).status_code == 200
    assert client.post(url, {"motivation": "rewritten"}).status_code == 403
    decision.refresh_from_db()
    assert decision.motivation == WHY
    assert Decision.objects.count() == 1


def test_annotations_are_resolved_through_the_service(client, staff_validator, model, contributor):
    version = submitted_version(model, contributor)
    finding = annotation_create(
        actor=staff_validator, target=version, kind=AnnotationKind.FINDING, body="Leak."
    )
    changelist = reverse("admin:governance_annotation_changelist")

    form = {"action": "resolve_selected", "_selected_action": [finding.pk], "index": 0}
    asked = client.post(changelist, form)
    assert b"Resolve: give your motivation" in asked.content
    finding.refresh_from_db()
    assert finding.is_open

    response = client.post(
        changelist, {**form, "apply": "1", "motivation": "Fixed by the new split."}, follow=True
    )
    finding.refresh_from_db()
    assert finding.resolved_by == staff_validator
    assert ("success", "1 annotation(s) resolved.") in notices(response)

    again = client.post(
        changelist, {**form, "apply": "1", "motivation": "Fixed by the new split."}, follow=True
    )
    assert any("already resolved" in m for _, m in notices(again))


def test_an_administrator_reclassifies_from_the_admin_with_a_motivation(
    client, administrator, contributor, team
):
    """The action asks for the tier and the motivation, then records a reclassify decision
    on the version under review; without a motivation nothing changes."""
    model = RegisteredModelFactory(name="limits", owner_team=team, risk_tier=RiskTier.LOW)
    version = ModelVersionFactory(actor=contributor, registered_model=model)
    version_transition(
        actor=contributor, version=version, action=Action.SUBMIT, motivation="Ready for review."
    )
    client.force_login(administrator)
    changelist = reverse("admin:registry_registeredmodel_changelist")
    form = {"action": "reclassify_models", "_selected_action": [model.pk], "index": 0}

    asked = client.post(changelist, form)
    assert b"Reclassify: the new tier or team" in asked.content
    client.post(changelist, {**form, "apply": "1", "risk_tier": "high", "motivation": ""})
    model.refresh_from_db()
    assert model.risk_tier == RiskTier.LOW

    response = client.post(
        changelist,
        {**form, "apply": "1", "risk_tier": "high", "motivation": "It now sets credit limits."},
        follow=True,
    )
    model.refresh_from_db()
    assert model.risk_tier == RiskTier.HIGH
    assert any("reclassified" in m for _, m in notices(response))
    decision = Decision.objects.get(action=Action.RECLASSIFY)
    assert decision.policy["required_sign_offs"] == 2
