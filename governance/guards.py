"""The checks a transition must pass, each with the reason it passes or fails.

A guard is a function of a ``GuardContext`` returning a ``GuardResult``. The transition table
(``governance.workflow``) names which guards each transition needs; the policy of the model's
risk tier parametrises them. Documentation (a later app) plugs its check in through
:func:`document_checker_register`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from governance import workflow as w
from governance.choices import Action, AnnotationKind
from governance.metric_checks import parse_metric_check
from governance.models import Annotation, Decision
from governance.policy_effective import EffectivePolicy, effective_policy
from registry.choices import VersionStatus
from registry.models import ModelVersion

# Guards whose failure means "not you" (403) rather than "not now" (409).
PERSONAL_GUARDS = frozenset(
    {w.SEPARATION_OF_DUTIES, w.ONE_SIGN_OFF_EACH, w.NOT_A_VALIDATOR_OF_IT, w.NOT_ITS_APPROVER}
)


@dataclass(frozen=True)
class GuardResult:
    name: str
    label: str
    passed: bool
    reason: str


@dataclass
class GuardContext:
    """What the guards look at, read once per evaluation."""

    version: ModelVersion
    # The effective policy: the stricter of the tier's current one and every one the version
    # was judged under (governance.policy_effective).
    policy: EffectivePolicy | None
    actor: User | None
    decisions: list[Decision] = field(default_factory=list)

    @property
    def current_round(self) -> int:
        submits = [d.round for d in self.decisions if d.action == Action.SUBMIT]
        return max(submits, default=0)

    @property
    def submitter_id(self) -> int | None:
        submits = [d for d in self.decisions if d.action == Action.SUBMIT]
        return submits[-1].actor_id if submits else None

    @property
    def submitter_ids(self) -> set[int]:
        """Everyone who ever submitted the version, in any round: none of them is independent
        of it, even after a colleague resubmitted it."""
        return {d.actor_id for d in self.decisions if d.action == Action.SUBMIT}

    @property
    def sign_off_actor_ids(self) -> set[int]:
        """Who signed off this round. The registrant and this round's submitter never count,
        whatever the record says: a sign-off is independent or it is not one."""
        not_independent = {self.version.registered_by_id, *self.submitter_ids}
        return {
            d.actor_id
            for d in self.decisions
            if d.action == Action.SIGN_OFF
            and d.round == self.current_round
            and d.actor_id not in not_independent
        }

    @property
    def validated_at(self):
        validated = [d for d in self.decisions if d.to_state == VersionStatus.VALIDATED]
        return validated[-1].created_at if validated else None


def guard_context(version: ModelVersion, actor: User | None) -> GuardContext:
    decisions = list(version.decisions.select_related("actor").order_by("created_at", "id"))
    return GuardContext(
        version=version,
        policy=effective_policy(version, [d.policy for d in decisions]),
        actor=actor,
        decisions=decisions,
    )


def policy_for(version: ModelVersion) -> EffectivePolicy:
    """The policy the version is judged by: the stricter of its tier's current policy and every
    policy it was under since it was first submitted."""
    return effective_policy(version)


def _separation_of_duties(ctx: GuardContext) -> GuardResult:
    label = "Separation of duties"
    if ctx.actor is None:
        return GuardResult(w.SEPARATION_OF_DUTIES, label, True, "Checked against the reviewer.")
    if ctx.actor.pk == ctx.version.registered_by_id:
        return GuardResult(
            w.SEPARATION_OF_DUTIES,
            label,
            False,
            "You registered this version; someone independent must review it.",
        )
    if ctx.actor.pk in ctx.submitter_ids:
        return GuardResult(
            w.SEPARATION_OF_DUTIES,
            label,
            False,
            "You submitted this version; someone independent must review it.",
        )
    return GuardResult(w.SEPARATION_OF_DUTIES, label, True, "Reviewer is independent.")


def _one_sign_off_each(ctx: GuardContext) -> GuardResult:
    label = "One sign-off per person"
    if ctx.actor is not None and ctx.actor.pk in ctx.sign_off_actor_ids:
        return GuardResult(w.ONE_SIGN_OFF_EACH, label, False, "You already signed off this round.")
    return GuardResult(w.ONE_SIGN_OFF_EACH, label, True, "No sign-off from this person yet.")


def _not_a_validator_of_it(ctx: GuardContext) -> GuardResult:
    label = "Approver is not a validator of it"
    if ctx.actor is not None and ctx.actor.pk in ctx.sign_off_actor_ids:
        return GuardResult(
            w.NOT_A_VALIDATOR_OF_IT,
            label,
            False,
            "You signed off the validation; another person must approve.",
        )
    return GuardResult(w.NOT_A_VALIDATOR_OF_IT, label, True, "Approver did not validate it.")


def _not_its_approver(ctx: GuardContext) -> GuardResult:
    """Whoever approved the version in this round cannot then validate it (after a
    reclassification re-opened its validation): approver and validators stay different
    people."""
    label = "Validator is not its approver"
    approvers = {
        d.actor_id
        for d in ctx.decisions
        if d.action == Action.APPROVE and d.round == ctx.current_round
    }
    if ctx.actor is not None and ctx.actor.pk in approvers:
        return GuardResult(
            w.NOT_ITS_APPROVER, label, False, "You approved this version; another must validate."
        )
    return GuardResult(w.NOT_ITS_APPROVER, label, True, "Validator did not approve it.")


def _enough_sign_offs(ctx: GuardContext, *, counting_actor: bool = False) -> GuardResult:
    signers = set(ctx.sign_off_actor_ids)
    if counting_actor and ctx.actor is not None:
        signers.add(ctx.actor.pk)
    need = ctx.policy.required_sign_offs
    passed = len(signers) >= need
    return GuardResult(
        w.ENOUGH_SIGN_OFFS,
        "Independent sign-offs",
        passed,
        f"{len(signers)} of {need} required sign-off{'s' if need != 1 else ''}.",
    )


def _metric_checks(ctx: GuardContext) -> GuardResult:
    checks = [parse_metric_check(text) for text in ctx.policy.metric_checks]
    if not checks:
        return GuardResult(w.METRIC_CHECKS, "Metric checks", True, "The policy sets none.")
    outcomes = [check.evaluate(ctx.version.metrics) for check in checks]
    failed = [why for ok, why in outcomes if not ok]
    reason = "; ".join(failed) if failed else "; ".join(why for _, why in outcomes)
    return GuardResult(w.METRIC_CHECKS, "Metric checks", not failed, reason)


def open_findings(version: ModelVersion):
    """Open findings on the version itself and on its decisions."""
    version_type = ContentType.objects.get_for_model(ModelVersion)
    decision_type = ContentType.objects.get_for_model(Decision)
    return Annotation.objects.filter(
        Q(target_type=version_type, target_id=version.pk)
        | Q(target_type=decision_type, target_id__in=version.decisions.values("pk")),
        kind=AnnotationKind.FINDING,
        resolved_at__isnull=True,
    )


def _no_open_findings(ctx: GuardContext) -> GuardResult:
    label = "No open findings"
    count = open_findings(ctx.version).count()
    if count and ctx.policy.block_on_open_findings:
        return GuardResult(w.NO_OPEN_FINDINGS, label, False, f"{count} open finding(s) to resolve.")
    if count:
        return GuardResult(
            w.NO_OPEN_FINDINGS, label, True, f"{count} open finding(s); the policy lets them pass."
        )
    return GuardResult(w.NO_OPEN_FINDINGS, label, True, "No open findings.")


def _validation_current(ctx: GuardContext) -> GuardResult:
    label = "Validation current"
    validated_at = ctx.validated_at
    if validated_at is None:
        return GuardResult(w.VALIDATION_CURRENT, label, False, "The version was never validated.")
    due = validated_at + timedelta(days=ctx.policy.revalidation_days)
    if due < timezone.now():
        return GuardResult(
            w.VALIDATION_CURRENT, label, False, f"Revalidation was due on {due:%Y-%m-%d}."
        )
    return GuardResult(w.VALIDATION_CURRENT, label, True, f"Valid until {due:%Y-%m-%d}.")


DocumentChecker = Callable[[ModelVersion, list[str]], list[str]]
_document_checkers: list[DocumentChecker] = []


def document_checker_register(checker: DocumentChecker) -> None:
    """Plug in a check of required documents: it gets the version and the required template
    names and returns the problems (missing or stale documents)."""
    _document_checkers.append(checker)


def _documents_guard(
    ctx: GuardContext,
    name: str,
    label: str,
    required: tuple[str, ...],
    checkers: list[DocumentChecker],
    met: str,
) -> GuardResult:
    """A guard over the documents ``required`` names, asked of the plugged-in ``checkers``;
    ``met`` says what passing means ("Current", "Every section written")."""
    if not required:
        return GuardResult(name, label, True, "The policy requires none.")
    if not checkers:
        return GuardResult(
            name, label, False, f"Required ({', '.join(required)}) but documentation is not set up."
        )
    problems = [p for checker in checkers for p in checker(ctx.version, list(required))]
    if problems:
        return GuardResult(name, label, False, "; ".join(problems))
    return GuardResult(name, label, True, f"{met}: {', '.join(required)}.")


def _required_documents(ctx: GuardContext) -> GuardResult:
    return _documents_guard(
        ctx,
        w.REQUIRED_DOCUMENTS,
        "Required documents",
        ctx.policy.required_documents,
        _document_checkers,
        "Current",
    )


_written_checkers: list[DocumentChecker] = []


def written_checker_register(checker: DocumentChecker) -> None:
    """Plug in a check of the documents required for approval: it gets the version and the
    template names and returns the sections people must still write."""
    _written_checkers.append(checker)


def _approval_documents(ctx: GuardContext) -> GuardResult:
    return _documents_guard(
        ctx,
        w.APPROVAL_DOCUMENTS,
        "Documents written",
        ctx.policy.approval_documents,
        _written_checkers,
        "Every section written",
    )


GUARDS: dict[str, Callable[[GuardContext], GuardResult]] = {
    w.SEPARATION_OF_DUTIES: _separation_of_duties,
    w.ONE_SIGN_OFF_EACH: _one_sign_off_each,
    w.NOT_A_VALIDATOR_OF_IT: _not_a_validator_of_it,
    w.NOT_ITS_APPROVER: _not_its_approver,
    w.ENOUGH_SIGN_OFFS: _enough_sign_offs,
    w.METRIC_CHECKS: _metric_checks,
    w.NO_OPEN_FINDINGS: _no_open_findings,
    w.VALIDATION_CURRENT: _validation_current,
    w.REQUIRED_DOCUMENTS: _required_documents,
    w.APPROVAL_DOCUMENTS: _approval_documents,
}


def guards_evaluate(names, ctx: GuardContext) -> list[GuardResult]:
    return [GUARDS[name](ctx) for name in names]


def advance_passes(transition: w.Transition, ctx: GuardContext) -> bool:
    """Whether a partial step (a sign-off) completes, counting the actor's own sign-off."""
    if transition.advance_when is None:
        return True
    return _enough_sign_offs(ctx, counting_actor=True).passed


def policy_report(version: ModelVersion) -> list[GuardResult]:
    """The policy's guards for a version as anyone sees them (no reviewer-specific checks):
    what the version page shows."""
    ctx = guard_context(version, actor=None)
    names = [
        w.ENOUGH_SIGN_OFFS,
        w.METRIC_CHECKS,
        w.NO_OPEN_FINDINGS,
        w.REQUIRED_DOCUMENTS,
        w.APPROVAL_DOCUMENTS,
    ]
    if version.status in (
        VersionStatus.VALIDATED,
        VersionStatus.APPROVED,
        VersionStatus.PRODUCTION,
        VersionStatus.FLAGGED,
    ):
        names.append(w.VALIDATION_CURRENT)
    return guards_evaluate(names, ctx)
