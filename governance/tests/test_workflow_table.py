"""The transition table on its own, without a database."""

from __future__ import annotations

from accounts.choices import Verb
from governance.choices import Action
from governance.workflow import (
    SEPARATION_OF_DUTIES,
    TERMINAL_STATES,
    TRANSITIONS,
    actions_from,
    transition_for,
)
from registry.choices import VersionStatus as S


def test_every_state_is_reachable_from_draft():
    reached, frontier = {S.DRAFT}, [S.DRAFT]
    while frontier:
        state = frontier.pop()
        for t in actions_from(state):
            if t.target not in reached:
                reached.add(t.target)
                frontier.append(t.target)
    assert reached == set(S.values)


def test_only_archived_is_a_dead_end():
    dead_ends = {state for state in S.values if not actions_from(state)}
    assert dead_ends == set(TERMINAL_STATES)


def test_production_is_reached_only_through_approval():
    """Into production from an approved version, or back from 'flagged' (which only a version
    in production can become) when a manager clears the flag."""
    # Self-loops (a reclassification, a sign-off gathered while flagged) leave the state as it
    # is; a reclassification only ever re-opens (reopen_to), never advances.
    assert {t.reopen_to for t in TRANSITIONS if t.reopen_to} == {S.IN_VALIDATION, S.FLAGGED}
    TRANSITIONS_ = [t for t in TRANSITIONS if t.source != t.target]
    into_production = [t for t in TRANSITIONS_ if t.target == S.PRODUCTION]
    assert [(t.source, t.action) for t in into_production] == [
        (S.APPROVED, Action.PROMOTE),
        (S.FLAGGED, Action.CLEAR_FLAG),
    ]
    into_flagged = [t for t in TRANSITIONS_ if t.target == S.FLAGGED]
    assert [(t.source, t.action) for t in into_flagged] == [(S.PRODUCTION, Action.FLAG)]
    into_approved = [t for t in TRANSITIONS_ if t.target == S.APPROVED]
    assert [(t.source, t.action) for t in into_approved] == [(S.VALIDATED, Action.APPROVE)]


def test_review_decisions_enforce_separation_of_duties():
    for t in TRANSITIONS:
        if t.verb in (Verb.VALIDATE, Verb.APPROVE) and t.action != Action.DEPRECATE:
            assert SEPARATION_OF_DUTIES in t.guards, t


def test_illegal_moves_are_not_in_the_table():
    assert transition_for(S.DRAFT, Action.APPROVE) is None
    assert transition_for(S.SUBMITTED, Action.SIGN_OFF) is None
    assert transition_for(S.ARCHIVED, Action.SUBMIT) is None
    assert transition_for(S.REJECTED, Action.SUBMIT) is None
    assert transition_for(S.DRAFT, Action.SUBMIT).target == S.SUBMITTED


def test_each_state_and_action_pair_appears_once():
    keys = [(t.source, t.action) for t in TRANSITIONS]
    assert len(keys) == len(set(keys))
