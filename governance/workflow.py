"""The version lifecycle as data: one table of transitions, testable without a database.

Each row says from which state an action leads to which state, which verb (see
``accounts.choices.Verb``) the actor must hold on the model, which token scope an API token
needs, and which guards must pass. ``advance_when`` marks the one partial step: a sign-off is
recorded in ``in_validation`` and moves the version to ``validated`` only once the policy's
number of independent sign-offs is reached.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.choices import TokenScope, Verb
from governance.choices import Action
from registry.choices import VersionStatus as S

# Guard names; their checks live in governance.guards.
SEPARATION_OF_DUTIES = "separation_of_duties"
ONE_SIGN_OFF_EACH = "one_sign_off_each"
ENOUGH_SIGN_OFFS = "enough_sign_offs"
METRIC_CHECKS = "metric_checks"
NO_OPEN_FINDINGS = "no_open_findings"
VALIDATION_CURRENT = "validation_current"
REQUIRED_DOCUMENTS = "required_documents"
# The documents the policy requires for approval have every section people write written (the
# validator's assessment, the developers' intended use); Steward regenerates them after each
# decision, so only what people owe is checked here.
APPROVAL_DOCUMENTS = "approval_documents"
NOT_A_VALIDATOR_OF_IT = "not_a_validator_of_it"
NOT_ITS_APPROVER = "not_its_approver"


@dataclass(frozen=True)
class Transition:
    source: str
    action: str
    target: str
    verb: str
    scope: str
    guards: tuple[str, ...] = ()
    advance_when: str | None = None
    # For a reclassification: the state a version goes to when the stricter policy it is now
    # under is not met (validation re-opens); otherwise it stays where it is.
    reopen_to: str | None = None


TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        S.DRAFT, Action.SUBMIT, S.SUBMITTED, Verb.SUBMIT, TokenScope.SUBMIT, (REQUIRED_DOCUMENTS,)
    ),
    Transition(
        S.CHANGES_REQUESTED,
        Action.SUBMIT,
        S.SUBMITTED,
        Verb.SUBMIT,
        TokenScope.SUBMIT,
        (REQUIRED_DOCUMENTS,),
    ),
    Transition(S.CHANGES_REQUESTED, Action.REVISE, S.DRAFT, Verb.SUBMIT, TokenScope.SUBMIT),
    Transition(
        S.SUBMITTED,
        Action.CLAIM,
        S.IN_VALIDATION,
        Verb.VALIDATE,
        TokenScope.VALIDATE,
        (SEPARATION_OF_DUTIES,),
    ),
    Transition(
        S.IN_VALIDATION,
        Action.SIGN_OFF,
        S.VALIDATED,
        Verb.VALIDATE,
        TokenScope.VALIDATE,
        (SEPARATION_OF_DUTIES, ONE_SIGN_OFF_EACH, NOT_ITS_APPROVER, METRIC_CHECKS),
        advance_when=ENOUGH_SIGN_OFFS,
    ),
    Transition(
        S.IN_VALIDATION,
        Action.REQUEST_CHANGES,
        S.CHANGES_REQUESTED,
        Verb.VALIDATE,
        TokenScope.VALIDATE,
        (SEPARATION_OF_DUTIES,),
    ),
    Transition(
        S.IN_VALIDATION,
        Action.REJECT,
        S.REJECTED,
        Verb.VALIDATE,
        TokenScope.VALIDATE,
        (SEPARATION_OF_DUTIES,),
    ),
    Transition(
        S.VALIDATED,
        Action.APPROVE,
        S.APPROVED,
        Verb.APPROVE,
        TokenScope.APPROVE,
        (
            SEPARATION_OF_DUTIES,
            NOT_A_VALIDATOR_OF_IT,
            ENOUGH_SIGN_OFFS,
            VALIDATION_CURRENT,
            NO_OPEN_FINDINGS,
            METRIC_CHECKS,
            REQUIRED_DOCUMENTS,
            APPROVAL_DOCUMENTS,
        ),
    ),
    Transition(
        S.VALIDATED,
        Action.REQUEST_CHANGES,
        S.CHANGES_REQUESTED,
        Verb.APPROVE,
        TokenScope.APPROVE,
        (SEPARATION_OF_DUTIES,),
    ),
    Transition(
        S.VALIDATED,
        Action.REJECT,
        S.REJECTED,
        Verb.APPROVE,
        TokenScope.APPROVE,
        (SEPARATION_OF_DUTIES,),
    ),
    Transition(
        S.APPROVED,
        Action.PROMOTE,
        S.PRODUCTION,
        Verb.DEPLOY,
        TokenScope.DEPLOY,
        (ENOUGH_SIGN_OFFS, VALIDATION_CURRENT),
    ),
    # Monitoring flags a version in production when a critical check fails (or a manager does
    # by hand); a manager clears the flag with a motivation, or the version is deprecated.
    Transition(S.PRODUCTION, Action.FLAG, S.FLAGGED, Verb.DEPLOY, TokenScope.DEPLOY),
    Transition(
        S.FLAGGED,
        Action.CLEAR_FLAG,
        S.PRODUCTION,
        Verb.APPROVE,
        TokenScope.APPROVE,
        (
            SEPARATION_OF_DUTIES,
            ENOUGH_SIGN_OFFS,
            NO_OPEN_FINDINGS,
            METRIC_CHECKS,
            REQUIRED_DOCUMENTS,
            APPROVAL_DOCUMENTS,
            VALIDATION_CURRENT,
        ),
    ),
    # A version flagged because a stricter policy now applies collects the missing sign-offs
    # without leaving production, then a manager clears the flag.
    Transition(
        S.FLAGGED,
        Action.SIGN_OFF,
        S.FLAGGED,
        Verb.VALIDATE,
        TokenScope.VALIDATE,
        (SEPARATION_OF_DUTIES, ONE_SIGN_OFF_EACH, NOT_ITS_APPROVER, METRIC_CHECKS),
    ),
    Transition(S.FLAGGED, Action.DEPRECATE, S.DEPRECATED, Verb.APPROVE, TokenScope.APPROVE),
    Transition(S.APPROVED, Action.DEPRECATE, S.DEPRECATED, Verb.APPROVE, TokenScope.APPROVE),
    Transition(S.PRODUCTION, Action.DEPRECATE, S.DEPRECATED, Verb.APPROVE, TokenScope.APPROVE),
    Transition(S.DRAFT, Action.ARCHIVE, S.ARCHIVED, Verb.ARCHIVE, TokenScope.WRITE),
    Transition(S.REJECTED, Action.ARCHIVE, S.ARCHIVED, Verb.ARCHIVE, TokenScope.WRITE),
    Transition(S.DEPRECATED, Action.ARCHIVE, S.ARCHIVED, Verb.ARCHIVE, TokenScope.WRITE),
)

# A change of risk tier or owning team while a version is under review or in production is a
# decision on each such version (an administrator's); see governance.services.reclassify.
RECLASSIFY_CHECKS = (
    ENOUGH_SIGN_OFFS,
    METRIC_CHECKS,
    REQUIRED_DOCUMENTS,
    APPROVAL_DOCUMENTS,
    VALIDATION_CURRENT,
)
# What people owe for approval re-opens only a version already past approval; one still under
# review meets the approval's own check.
APPROVED_STATES = (S.APPROVED, S.PRODUCTION, S.FLAGGED)


def reclassify_checks(status: str) -> tuple[str, ...]:
    """The checks a reclassification re-runs on a version in ``status``."""
    if status in APPROVED_STATES:
        return RECLASSIFY_CHECKS
    return tuple(name for name in RECLASSIFY_CHECKS if name != APPROVAL_DOCUMENTS)


TRANSITIONS += tuple(
    Transition(
        source, Action.RECLASSIFY, source, Verb.CLASSIFY, TokenScope.CLASSIFY, reopen_to=reopen
    )
    for source, reopen in (
        (S.SUBMITTED, None),
        (S.IN_VALIDATION, None),
        (S.VALIDATED, S.IN_VALIDATION),
        (S.APPROVED, S.IN_VALIDATION),
        (S.PRODUCTION, S.FLAGGED),
        (S.FLAGGED, None),
    )
)
# States in which a version's model may not be reclassified by a plain edit.
GOVERNED_STATES = frozenset(t.source for t in TRANSITIONS if t.action == Action.RECLASSIFY)

_BY_KEY: dict[tuple[str, str], Transition] = {(t.source, t.action): t for t in TRANSITIONS}
TERMINAL_STATES = frozenset({S.ARCHIVED})


def transition_for(state: str, action: str) -> Transition | None:
    """The transition ``action`` takes from ``state``, or None if it is not allowed there."""
    return _BY_KEY.get((state, action))


def actions_from(state: str) -> list[Transition]:
    """Every transition that leaves ``state``, in table order."""
    return [t for t in TRANSITIONS if t.source == state]
