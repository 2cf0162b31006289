"""Random sequences of decisions by random people, through the one transition service: after
every step no state is illegal, nobody approved or validated their own work, sign-offs are
counted as the policy says, and every state change has exactly one decision and one chained
audit event."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from accounts.access import perm_for
from accounts.choices import RoleName
from accounts.services import role_assign, team_add_member
from core.errors import StewardError
from core.eventlog import audit_chain_verify
from core.models import AuditEvent
from governance import workflow
from governance.choices import Action
from governance.guards import policy_for
from governance.models import Decision
from governance.services import version_transition
from registry.choices import RiskTier, VersionStatus
from tests.factories import ModelVersionFactory, RegisteredModelFactory, UserFactory

pytestmark = pytest.mark.django_db
REVIEW_ACTIONS = {
    Action.CLAIM,
    Action.SIGN_OFF,
    Action.REQUEST_CHANGES,
    Action.REJECT,
    Action.APPROVE,
}


def _cast(team):
    """Everyone who might act, including people holding roles that tempt a conflict."""

    def person(name, *roles, member=True):
        user = UserFactory(username=name)
        if member:
            team_add_member(team=team, user=user)
        for role, scoped in roles:
            role_assign(user=user, role=role, team=team if scoped else None)
        return user

    return [
        person("author", (RoleName.CONTRIBUTOR, True)),
        person("colleague", (RoleName.CONTRIBUTOR, True)),
        person("val1", (RoleName.VALIDATOR, False), member=False),
        person("val2", (RoleName.VALIDATOR, False), member=False),
        person("val3", (RoleName.VALIDATOR, False), member=False),
        person("valmanager", (RoleName.VALIDATOR, False), (RoleName.MANAGER, False)),
        person("authorval", (RoleName.CONTRIBUTOR, True), (RoleName.VALIDATOR, False)),
        person("mgr", (RoleName.MANAGER, False), member=False),
        person("admin", (RoleName.ADMINISTRATOR, False), member=False),
        person("aud", (RoleName.AUDITOR, False), member=False),
        person("stranger", member=False),
    ]


class WorkflowMachine(RuleBasedStateMachine):
    team = None
    people: list = []

    @initialize(tier=st.sampled_from(RiskTier.values), author_index=st.sampled_from([0, 6]))
    def register(self, tier, author_index):
        model = RegisteredModelFactory(owner_team=self.team, risk_tier=tier)
        self.author = self.people[author_index]
        self.version = ModelVersionFactory(
            actor=self.author, registered_model=model, metrics={"auc": 0.9}
        )
        self.changes = 0

    @rule(data=st.data())
    def decide(self, data):
        # Mostly an action that leaves the current state (else the walk rarely gets far), now
        # and then any action at all; mostly with a motivation.
        legal = [t.action for t in workflow.actions_from(self.version.status)]
        action = data.draw(
            st.sampled_from(legal)
            if legal and data.draw(st.integers(0, 9))
            else st.sampled_from(Action.values)
        )
        step = workflow.transition_for(self.version.status, action)
        entitled = [
            i
            for i, p in enumerate(self.people)
            if step and p.has_perm(perm_for(step.verb, self.version), self.version)
        ]
        anyone = st.integers(min_value=0, max_value=len(self.people) - 1)
        who = data.draw(
            st.sampled_from(entitled) if entitled and data.draw(st.integers(0, 9)) > 2 else anyone
        )
        motivated = data.draw(st.integers(0, 9)) > 0
        actor = self.people[who]
        before_state = self.version.status
        before_decisions = Decision.objects.filter(version=self.version).count()
        before_events = AuditEvent.objects.count()
        try:
            decision = version_transition(
                actor=actor,
                version=self.version,
                action=action,
                motivation="Reviewed the evidence carefully." if motivated else "",
            )
        except StewardError:
            self.version.refresh_from_db()
            assert self.version.status == before_state
            assert Decision.objects.filter(version=self.version).count() == before_decisions
            assert AuditEvent.objects.count() == before_events
            return
        self.version.refresh_from_db()
        assert motivated
        assert Decision.objects.filter(version=self.version).count() == before_decisions + 1
        assert AuditEvent.objects.filter(action=f"version.{action}").count() >= 1
        assert AuditEvent.objects.count() == before_events + 1
        assert self.version.status == decision.to_state
        assert decision.from_state == before_state

    @invariant()
    def state_is_legal(self):
        assert self.version.status in VersionStatus.values

    @invariant()
    def nobody_reviews_their_own_work(self):
        decisions = list(Decision.objects.filter(version=self.version).order_by("id"))
        for d in decisions:
            if d.action in REVIEW_ACTIONS:
                assert d.actor_id != self.version.registered_by_id
                submitters = {
                    s.actor_id
                    for s in decisions
                    if s.action == Action.SUBMIT and s.round == d.round
                }
                assert d.actor_id not in submitters

    @invariant()
    def sign_offs_are_counted_as_the_policy_says(self):
        decisions = list(Decision.objects.filter(version=self.version).order_by("id"))
        required = policy_for(self.version).required_sign_offs
        for d in decisions:
            signers = [
                s.actor_id
                for s in decisions
                if s.action == Action.SIGN_OFF and s.round == d.round and s.id <= d.id
            ]
            assert len(signers) == len(set(signers)), "one person signed twice"
            if d.action == Action.SIGN_OFF:
                reached = d.to_state == VersionStatus.VALIDATED
                assert reached == (len(signers) >= required)
            if d.action == Action.APPROVE:
                round_signers = {
                    s.actor_id
                    for s in decisions
                    if s.action == Action.SIGN_OFF and s.round == d.round
                }
                assert d.actor_id not in round_signers

    @invariant()
    def each_state_change_has_one_decision(self):
        decisions = list(Decision.objects.filter(version=self.version).order_by("id"))
        state = VersionStatus.DRAFT
        for d in decisions:
            assert d.from_state == state
            state = d.to_state
        assert state == self.version.status


def test_random_decision_sequences_keep_the_invariants(team):
    WorkflowMachine.team = team
    WorkflowMachine.people = _cast(team)
    machine = WorkflowMachine.TestCase
    machine.settings = settings(
        max_examples=25,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    machine().runTest()
    assert audit_chain_verify().ok
