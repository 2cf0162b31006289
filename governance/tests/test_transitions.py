"""The approval workflow as its users live it: a contributor submits, independent validators
sign off, a manager approves and promotes; every step has a motivation, and whatever is not
allowed is refused without changing anything."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.choices import RoleName
from accounts.services import role_assign
from core.errors import Forbidden, InvalidInput, NotFound
from governance.choices import Action, AnnotationKind
from governance.errors import GuardsFailed, IllegalTransition, NotPermittedToDecide
from governance.models import Decision, Policy
from governance.services import annotation_create, annotation_resolve
from registry.choices import RiskTier
from registry.choices import VersionStatus as S
from tests.factories import ModelVersionFactory, RegisteredModelFactory, UserFactory, version_decide

pytestmark = pytest.mark.django_db
WHY = "Evidence reviewed; see the attached notes."


@pytest.fixture
def version(contributor, team):
    model = RegisteredModelFactory(owner_team=team, risk_tier=RiskTier.HIGH)
    return ModelVersionFactory(actor=contributor, registered_model=model, metrics={"auc": 0.91})


@pytest.fixture
def second_validator(db):
    user = UserFactory(username="vince", email="vince@example.org")
    role_assign(user=user, role=RoleName.VALIDATOR)
    return user


def act(actor, version, action, motivation=WHY):
    decision = version_decide(actor=actor, version=version, action=action, motivation=motivation)
    version.refresh_from_db()
    return decision


def test_a_high_risk_version_goes_from_draft_to_archive(
    version, contributor, validator, second_validator, manager, administrator
):
    assert version.status == S.DRAFT
    act(contributor, version, Action.SUBMIT)
    assert version.status == S.SUBMITTED
    act(validator, version, Action.CLAIM)
    assert version.status == S.IN_VALIDATION
    first = act(validator, version, Action.SIGN_OFF)
    # High risk needs two independent sign-offs: the first is recorded, the state stays.
    assert (first.from_state, first.to_state) == (S.IN_VALIDATION, S.IN_VALIDATION)
    assert version.status == S.IN_VALIDATION
    act(second_validator, version, Action.SIGN_OFF)
    assert version.status == S.VALIDATED
    act(manager, version, Action.APPROVE)
    assert version.status == S.APPROVED
    act(manager, version, Action.PROMOTE)
    assert version.status == S.PRODUCTION
    act(manager, version, Action.DEPRECATE)
    act(administrator, version, Action.ARCHIVE)
    assert version.status == S.ARCHIVED

    history = list(version.decisions.values_list("action", "actor__username", "to_state"))
    assert history == [
        ("submit", "carol", "submitted"),
        ("claim", "vera", "in_validation"),
        ("sign_off", "vera", "in_validation"),
        ("sign_off", "vince", "validated"),
        ("approve", "max", "approved"),
        ("promote", "max", "production"),
        ("deprecate", "max", "deprecated"),
        ("archive", "ada", "archived"),
    ]
    assert all(d.motivation == WHY for d in version.decisions.all())


def test_every_decision_needs_a_motivation(version, contributor):
    for motivation in ("", "   ", "ok"):
        with pytest.raises(InvalidInput) as excinfo:
            act(contributor, version, Action.SUBMIT, motivation)
        assert "motivation" in excinfo.value.field_errors
    assert version.status == S.DRAFT
    assert not Decision.objects.exists()


def test_an_illegal_transition_is_a_conflict_and_changes_nothing(version, manager):
    with pytest.raises(IllegalTransition) as excinfo:
        act(manager, version, Action.APPROVE)
    assert excinfo.value.status_code == 409
    assert "draft" in excinfo.value.message and "submit" in excinfo.value.message
    assert version.status == S.DRAFT
    assert not Decision.objects.exists()


def test_an_unauthorised_transition_is_refused(version, contributor, validator, outsider, auditor):
    act(contributor, version, Action.SUBMIT)
    with pytest.raises(NotFound):  # another team's version is not even visible
        act(outsider, version, Action.CLAIM)
    with pytest.raises(NotPermittedToDecide) as excinfo:  # auditors change nothing
        act(auditor, version, Action.CLAIM)
    assert excinfo.value.status_code == 403
    with pytest.raises(NotPermittedToDecide):  # a contributor cannot validate
        act(contributor, version, Action.CLAIM)
    assert version.status == S.SUBMITTED
    assert version.decisions.count() == 1


def test_the_author_cannot_validate_their_own_version(version, contributor):
    # Carol also becomes a validator; she still may not review what she registered.
    role_assign(user=contributor, role=RoleName.VALIDATOR)
    act(contributor, version, Action.SUBMIT)
    with pytest.raises(NotPermittedToDecide) as excinfo:
        act(contributor, version, Action.CLAIM)
    assert "registered this version" in excinfo.value.message


def test_the_submitter_cannot_validate_it(version, teammate):
    role_assign(user=teammate, role=RoleName.VALIDATOR)
    act(teammate, version, Action.SUBMIT)  # Tom submits Carol's version
    with pytest.raises(NotPermittedToDecide) as excinfo:
        act(teammate, version, Action.CLAIM)
    assert "submitted this version" in excinfo.value.message


def test_one_person_cannot_give_two_sign_offs(version, contributor, validator):
    act(contributor, version, Action.SUBMIT)
    act(validator, version, Action.CLAIM)
    act(validator, version, Action.SIGN_OFF)
    with pytest.raises(NotPermittedToDecide) as excinfo:
        act(validator, version, Action.SIGN_OFF)
    assert "already signed off" in excinfo.value.message
    assert version.status == S.IN_VALIDATION


def test_a_validator_of_the_version_cannot_also_approve_it(
    version, contributor, validator, second_validator
):
    role_assign(user=validator, role=RoleName.MANAGER)
    act(contributor, version, Action.SUBMIT)
    act(validator, version, Action.CLAIM)
    act(validator, version, Action.SIGN_OFF)
    act(second_validator, version, Action.SIGN_OFF)
    with pytest.raises(NotPermittedToDecide) as excinfo:
        act(validator, version, Action.APPROVE)
    assert "signed off the validation" in excinfo.value.message


def test_metric_checks_of_the_policy_block_a_weak_version(
    version, contributor, validator, second_validator
):
    Policy.objects.filter(risk_tier="high").update(metric_checks=["auc >= 0.95"])
    act(contributor, version, Action.SUBMIT)
    act(validator, version, Action.CLAIM)
    with pytest.raises(GuardsFailed) as excinfo:
        act(validator, version, Action.SIGN_OFF)
    assert "auc = 0.91" in excinfo.value.message and "auc >= 0.95" in excinfo.value.message
    assert version.status == S.IN_VALIDATION


def test_an_open_finding_blocks_approval_until_resolved(
    version, contributor, validator, second_validator, manager
):
    act(contributor, version, Action.SUBMIT)
    act(validator, version, Action.CLAIM)
    finding = annotation_create(
        actor=validator,
        target=version,
        kind=AnnotationKind.FINDING,
        body="Calibration drifts above a score of 0.9.",
    )
    act(validator, version, Action.SIGN_OFF)
    act(second_validator, version, Action.SIGN_OFF)
    with pytest.raises(GuardsFailed) as excinfo:
        act(manager, version, Action.APPROVE)
    assert "open finding" in excinfo.value.message
    with pytest.raises(Forbidden, match="registered or submitted"):
        annotation_resolve(actor=contributor, annotation=finding, motivation="Not an issue.")
    annotation_resolve(
        actor=validator, annotation=finding, motivation="Recalibrated; the drift is gone."
    )
    act(manager, version, Action.APPROVE)
    assert version.status == S.APPROVED


def test_a_stale_validation_must_be_redone_before_approval(
    version, contributor, validator, second_validator, manager
):
    act(contributor, version, Action.SUBMIT)
    act(validator, version, Action.CLAIM)
    act(validator, version, Action.SIGN_OFF)
    act(second_validator, version, Action.SIGN_OFF)
    Decision.objects.filter(to_state=S.VALIDATED).update(
        created_at=timezone.now() - timedelta(days=400)
    )
    with pytest.raises(GuardsFailed) as excinfo:
        act(manager, version, Action.APPROVE)
    assert "Revalidation was due" in excinfo.value.message


def test_changes_requested_send_the_version_back_for_a_new_round(
    version, contributor, validator, second_validator
):
    act(contributor, version, Action.SUBMIT)
    act(validator, version, Action.CLAIM)
    act(validator, version, Action.SIGN_OFF)
    act(second_validator, version, Action.REQUEST_CHANGES, "Add a fairness analysis please.")
    assert version.status == S.CHANGES_REQUESTED
    act(contributor, version, Action.SUBMIT)
    act(validator, version, Action.CLAIM)
    # The sign-off of the earlier round does not count: two new ones are needed.
    act(validator, version, Action.SIGN_OFF)
    assert version.status == S.IN_VALIDATION
    act(second_validator, version, Action.SIGN_OFF)
    assert version.status == S.VALIDATED


def test_the_people_who_act_next_are_emailed_a_link(
    version, contributor, validator, outsider, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        act(contributor, version, Action.SUBMIT)
    recipients = {address for message in mail.outbox for address in message.to}
    assert validator.email in recipients
    assert contributor.email not in recipients  # the one who decided
    assert outsider.email not in recipients
    message = next(m for m in mail.outbox if validator.email in m.to)
    assert f"/models/{version.registered_model.name}/versions/1/" in message.body
    assert WHY in message.body


def test_every_decision_is_one_decision_row_and_one_chained_audit_event(
    version, contributor, validator, second_validator
):
    from core.eventlog import audit_chain_verify
    from core.models import AuditEvent

    act(contributor, version, Action.SUBMIT)
    act(validator, version, Action.CLAIM)
    act(validator, version, Action.SIGN_OFF)
    events = AuditEvent.objects.filter(
        action__startswith="version.", data__has_key="decision"
    ).order_by("sequence")
    assert [e.action for e in events] == ["version.submit", "version.claim", "version.sign_off"]
    assert [e.data["decision"] for e in events] == list(
        version.decisions.order_by("id").values_list("id", flat=True)
    )
    assert events[0].scope_version == version.natural_key
    assert events[0].data["motivation"] == WHY
    assert audit_chain_verify().ok
