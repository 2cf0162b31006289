"""Random sequences of decisions by random people, through the one transition service, mixed
with the attacks an insider would try between them: lowering or raising the risk tier and
moving the model to another team (by plain edit and by reclassification), rewriting the
description, and resolving findings as every persona. After every step no state is illegal,
nobody approved or validated their own work, sign-offs are counted as the policy says, nothing
is approved or in production without the sign-offs of the strictest policy it was under (by
people other than its registrant and submitter), a finding is never closed by the version's
developer, and every state change has exactly one decision and one chained audit event."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, event, settings
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
from governance.models import Annotation, Decision, Policy
from governance.services import (
    annotation_create,
    annotation_resolve,
    model_reclassify,
    version_transition,
)
from governance.services.annotations import version_developer_ids
from registry.choices import RiskTier, VersionStatus
from registry.services import model_version_update, registered_model_update
from tests.factories import (
    ModelVersionFactory,
    RegisteredModelFactory,
    TeamFactory,
    UserFactory,
    approval_sections_write,
    version_decide,
)

pytestmark = pytest.mark.django_db
INPUTS = {"columns": [{"name": "income", "type": "float64"}]}
OUTPUTS = {"columns": [{"name": "label", "type": "int64", "labels": ["no", "yes"]}]}
BASELINE_ROWS = [{"income": float(i), "label": i % 2} for i in range(120)]
START_STATES = [
    VersionStatus.DRAFT,
    VersionStatus.IN_VALIDATION,
    VersionStatus.VALIDATED,
    VersionStatus.APPROVED,
    VersionStatus.PRODUCTION,
]
FORWARD = [
    Action.SUBMIT,
    Action.CLAIM,
    Action.SIGN_OFF,
    Action.APPROVE,
    Action.PROMOTE,
    Action.CLEAR_FLAG,
]
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

    @initialize(
        tier=st.sampled_from(RiskTier.values),
        author_index=st.sampled_from([0, 6]),
        start=st.sampled_from(START_STATES),
    )
    def register(self, tier, author_index, start):
        model = RegisteredModelFactory(owner_team=self.team, risk_tier=tier)
        self.author = self.people[author_index]
        self.version = ModelVersionFactory(
            actor=self.author,
            registered_model=model,
            metrics={"auc": 0.9},
            input_schema=INPUTS,
            output_schema=OUTPUTS,
        )
        self.deployments = 0
        self.changes = 0
        self.other_team = TeamFactory(name="Elsewhere", slug="elsewhere")
        # The strictest sign-off count of every tier the model had since the version was
        # first submitted: computed here, independently of the implementation's snapshots.
        self.strictest = 0
        self._fast_forward(start)

    @rule(data=st.data())
    def decide(self, data):
        # Mostly an action that moves the version on (else walks rarely reach approval), now and
        # then any legal action or any action at all; mostly with a motivation.
        legal = [t.action for t in workflow.actions_from(self.version.status)]
        forward = [a for a in legal if a in FORWARD]
        roll = data.draw(st.integers(0, 9))
        if forward and roll >= 3:
            action = data.draw(st.sampled_from(forward))
        elif legal and roll:
            action = data.draw(st.sampled_from(legal))
        else:
            action = data.draw(st.sampled_from(Action.values))
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
        if action == Action.APPROVE:
            # What people owe before approval is written first (when someone may write it),
            # so that approvals are tried on their other guards too.
            with contextlib.suppress(StewardError):
                approval_sections_write(self.version)
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
        event(f"reached {decision.to_state}")
        self._note_tier()

    def _fast_forward(self, start):
        """Walk the version, legitimately, to ``start``, so that the attacks are tried on
        versions in review and in production as often as on drafts."""
        val = [self.people[2], self.people[3], self.people[4]]
        mgr = self.people[7]
        script = [(self.author, Action.SUBMIT), (val[0], Action.CLAIM)]
        script += [(v, Action.SIGN_OFF) for v in val]
        script += [(mgr, Action.APPROVE), (mgr, Action.PROMOTE)]
        for actor, action in script:
            if self.version.status == start:
                break
            if workflow.transition_for(self.version.status, action) is None:
                continue
            version_decide(
                actor=actor, version=self.version, action=action, motivation="As the policy asks."
            )
            self.version.refresh_from_db()
            self._note_tier()
        assert self.version.status == start

    def _note_tier(self):
        if Decision.objects.filter(version=self.version, action=Action.SUBMIT).exists():
            tier = (
                type(self.version.registered_model)
                .objects.get(pk=self.version.registered_model_id)
                .risk_tier
            )
            required = Policy.objects.get(risk_tier=tier).required_sign_offs
            self.strictest = max(self.strictest, required)

    def _unchanged_on_refusal(self, attempt):
        """Run ``attempt``; if refused, nothing at all changed."""
        model = type(self.version.registered_model).objects.get(pk=self.version.registered_model_id)
        before = (
            self.version.status,
            self.version.description,
            model.risk_tier,
            model.owner_team_id,
            Decision.objects.count(),
            AuditEvent.objects.count(),
            Annotation.objects.filter(resolved_at__isnull=True, target_id=self.version.pk).count(),
        )
        try:
            attempt()
        except StewardError:
            self.version.refresh_from_db()
            model.refresh_from_db()
            after = (
                self.version.status,
                self.version.description,
                model.risk_tier,
                model.owner_team_id,
                Decision.objects.count(),
                AuditEvent.objects.count(),
                Annotation.objects.filter(
                    resolved_at__isnull=True, target_id=self.version.pk
                ).count(),
            )
            assert after == before
            return False
        self.version.refresh_from_db()
        self._note_tier()
        return True

    @rule(who=st.integers(0, 10), tier=st.sampled_from(RiskTier.values), move=st.booleans())
    def edit_tier_or_team(self, who, tier, move):
        """The plain edit: refused while a version is under review or in production."""
        actor = self.people[who]
        model = self.version.registered_model
        model.refresh_from_db()
        tier_before = model.risk_tier
        team = self.other_team if move else None
        under_review = self.version.status in workflow.GOVERNED_STATES
        done = self._unchanged_on_refusal(
            lambda: registered_model_update(
                actor=actor, model=model, risk_tier=tier, owner_team=team
            )
        )
        if done and under_review:
            assert tier == tier_before and not move, "tier or team changed under review"

    @rule(who=st.integers(0, 10), tier=st.sampled_from(RiskTier.values), motivated=st.booleans())
    def reclassify(self, who, tier, motivated):
        actor = self.people[who]
        self._unchanged_on_refusal(
            lambda: model_reclassify(
                actor=actor,
                model=self.version.registered_model,
                risk_tier=tier,
                motivation="Reassessed the impact of the model." if motivated else "",
            )
        )

    @rule(who=st.integers(0, 10))
    def rewrite_description(self, who):
        actor = self.people[who]
        state, before = self.version.status, self.version.description
        done = self._unchanged_on_refusal(
            lambda: model_version_update(
                actor=actor, version=self.version, description=f"## Governance record {who}"
            )
        )
        if done and self.version.description != before:
            assert state in (VersionStatus.DRAFT, VersionStatus.CHANGES_REQUESTED)

    @rule(author=st.sampled_from([2, 3, 5, 7]))
    def raise_finding(self, author):
        with contextlib.suppress(StewardError):
            annotation_create(
                actor=self.people[author],
                target=self.version,
                kind="finding",
                body="The split leaks future data.",
            )

    @rule(who=st.integers(0, 10), data=st.data())
    def resolve_finding(self, who, data):
        findings = list(
            Annotation.objects.filter(
                kind="finding", resolved_at__isnull=True, target_id=self.version.pk
            ).order_by("id")
        )
        if not findings:
            return
        finding = data.draw(st.sampled_from(findings))
        actor = self.people[who]
        developers = version_developer_ids(self.version)
        done = self._unchanged_on_refusal(
            lambda: annotation_resolve(
                actor=actor, annotation=finding, motivation="Checked and fixed in the code."
            )
        )
        if done:
            assert actor.pk not in developers

    @rule(
        who=st.integers(0, 10),
        mode=st.sampled_from(["canary", "live", "shadow", "warm_up"]),
        share=st.integers(1, 99),
    )
    def deploy_to_production(self, who, mode, share):
        """A production deployment that serves traffic (a 99% canary included) is the promote
        decision: only from approved (or already in production), with its guards."""
        from monitoring.services.deployments import deployment_create

        state = self.version.status
        self.deployments += 1
        done = self._unchanged_on_refusal(
            lambda: deployment_create(
                actor=self.people[who],
                version=self.version,
                name=f"prod-{self.version.pk}-{self.deployments}",
                environment="production",
                mode=mode,
                traffic_percent=share if mode == "canary" else None,
            )
        )
        if done:
            event(f"deployed {mode} from {state}")
        if done and mode in ("canary", "live"):
            assert state in (VersionStatus.APPROVED, VersionStatus.PRODUCTION), state
            assert self.version.status == VersionStatus.PRODUCTION

    @rule(who=st.integers(0, 10))
    def replace_baseline(self, who):
        """After submission the baseline is review evidence: never set by the developer."""
        from monitoring.services.baselines import baseline_create

        actor = self.people[who]
        state = self.version.status
        developers = version_developer_ids(self.version)
        done = self._unchanged_on_refusal(
            lambda: baseline_create(actor=actor, version=self.version, rows=BASELINE_ROWS)
        )
        if done and state not in (VersionStatus.DRAFT, VersionStatus.CHANGES_REQUESTED):
            assert actor.pk not in developers

    # Decisions are what moves a version on; drawn as often as all the attacks together, so
    # that walks reach approval and production, where the attacks matter most.
    @rule(data=st.data())
    def decide_again(self, data):
        self.decide(data)

    @rule(data=st.data())
    def decide_once_more(self, data):
        self.decide(data)

    @invariant()
    def approved_only_with_the_strictest_sign_offs(self):
        """Whatever the tier is now, a version approved or in production has, in its current
        round, independent sign-offs from as many people as the strictest tier it had since
        submission requires."""
        if self.version.status not in (VersionStatus.APPROVED, VersionStatus.PRODUCTION):
            return
        decisions = list(Decision.objects.filter(version=self.version).order_by("id"))
        current = max(d.round for d in decisions if d.action == Action.SUBMIT)
        developers = {self.version.registered_by_id} | {
            d.actor_id for d in decisions if d.action == Action.SUBMIT and d.round == current
        }
        signers = {
            d.actor_id
            for d in decisions
            if d.action == Action.SIGN_OFF and d.round == current and d.actor_id not in developers
        }
        assert len(signers) >= self.strictest, (len(signers), self.strictest)

    @invariant()
    def state_is_legal(self):
        assert self.version.status in VersionStatus.values

    @invariant()
    def nobody_reviews_their_own_work(self):
        decisions = list(Decision.objects.filter(version=self.version).order_by("id"))
        for d in decisions:
            if d.action in REVIEW_ACTIONS:
                assert d.actor_id != self.version.registered_by_id
                # Whoever submitted it in any round up to this decision.
                submitters = {
                    s.actor_id for s in decisions if s.action == Action.SUBMIT and s.id < d.id
                }
                assert d.actor_id not in submitters

    @invariant()
    def sign_offs_are_counted_as_the_policy_says(self):
        decisions = list(Decision.objects.filter(version=self.version).order_by("id"))
        for d in decisions:
            # What the decision was judged by (stored with it); the strictest-policy invariant
            # checks the same from outside.
            required = (
                d.policy.get("required_sign_offs") or policy_for(self.version).required_sign_offs
            )
            signers = [
                s.actor_id
                for s in decisions
                if s.action == Action.SIGN_OFF and s.round == d.round and s.id <= d.id
            ]
            assert len(signers) == len(set(signers)), "one person signed twice"
            if d.action == Action.SIGN_OFF and d.from_state == VersionStatus.IN_VALIDATION:
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
        max_examples=30,
        stateful_step_count=50,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    machine().runTest()
    assert audit_chain_verify().ok
