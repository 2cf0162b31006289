"""The governance part of the demo: versions in several states, each reached through the
transition service with real motivations, so that every demo person has work waiting."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from accounts.models import User
from governance.choices import Action, AnnotationKind
from governance.constants import MIN_MOTIVATION_LENGTH
from governance.models import Annotation, Decision
from governance.queue_selectors import NEXT_ACTION, awaiting_my_decision
from governance.selectors import annotations_on
from registry.choices import VersionStatus as S
from registry.models import ModelAlias, ModelAliasMove, ModelVersion

pytestmark = pytest.mark.django_db

EXPECTED_STATES = {
    "cancer-screening/1": S.PRODUCTION,
    "cancer-screening/2": S.SUBMITTED,
    "diabetes-progression/1": S.APPROVED,
    "diabetes-progression/2": S.DRAFT,
    "wine-segmentation/1": S.DRAFT,
}


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(settings, tmp_path):
    settings.DEMO_MODE = True
    settings.VAR_DIR = tmp_path / "var"
    return seed()


def version(key: str) -> ModelVersion:
    name, number = key.split("/")
    return ModelVersion.objects.get(registered_model__name=name, version=int(number))


def inbox_of(username: str) -> dict[str, str]:
    """What awaits the person's decision, each with the decision it waits for."""
    versions = awaiting_my_decision(User.objects.get(username=username))
    return {v.natural_key: NEXT_ACTION[v.status] for v in versions.select_related()}


def test_it_leaves_versions_in_every_state_the_demo_promises(seeded):
    states = {v.natural_key: v.status for v in ModelVersion.objects.select_related()}
    assert states == EXPECTED_STATES
    assert "review of cancer-screening/1 (production)" in seeded


def test_each_demo_person_finds_work_in_their_inbox(seeded):
    assert inbox_of("contributor") == {"diabetes-progression/2": Action.SUBMIT}
    assert inbox_of("validator")["cancer-screening/2"] == Action.CLAIM
    assert inbox_of("validator2")["cancer-screening/2"] == Action.CLAIM
    assert inbox_of("manager")["diabetes-progression/1"] == Action.PROMOTE
    assert inbox_of("outsider") == {"wine-segmentation/1": Action.SUBMIT}
    assert inbox_of("admin")  # a superuser: everything that waits
    assert inbox_of("auditor") == {}  # auditors change nothing


def test_every_state_was_reached_by_decisions_with_motivations(seeded):
    for key, status in EXPECTED_STATES.items():
        decisions = list(version(key).decisions.order_by("created_at", "id"))
        state = S.DRAFT
        for decision in decisions:
            assert decision.from_state == state, decision
            assert len(decision.motivation) >= MIN_MOTIVATION_LENGTH
            assert "{" not in decision.motivation  # every metric placeholder was filled
            state = decision.to_state
        assert state == status, key


def test_the_high_risk_version_in_production_had_two_independent_sign_offs(seeded):
    live = version("cancer-screening/1")
    sign_offs = live.decisions.filter(action=Action.SIGN_OFF)
    signers = set(sign_offs.values_list("actor__username", flat=True))

    assert signers == {"validator", "validator2"}
    assert live.registered_by.username not in signers
    assert live.decisions.get(action=Action.APPROVE).actor.username == "manager"
    assert f"{live.metrics['auc']:.3f}" in live.decisions.get(action=Action.SUBMIT).motivation


def test_the_discussion_holds_a_resolved_finding_and_an_open_question(seeded):
    finding = annotations_on(version("cancer-screening/1")).get(kind=AnnotationKind.FINDING)
    assert finding.resolved_by.username == "validator"
    assert finding.replies.get(kind=AnnotationKind.NOTE).author.username == "contributor"
    assert finding.replies.get(kind=AnnotationKind.MOTIVATION).author.username == "validator"

    question = annotations_on(version("cancer-screening/2")).get(kind=AnnotationKind.QUESTION)
    assert question.is_open


def test_seeding_again_changes_nothing(seeded):
    before = (Decision.objects.count(), Annotation.objects.count())

    output = seed()

    assert "nothing to do" in output
    assert (Decision.objects.count(), Annotation.objects.count()) == before
    assert {v.natural_key: v.status for v in ModelVersion.objects.all()} == EXPECTED_STATES


def test_champion_points_at_the_version_in_production(seeded):
    champion = ModelAlias.objects.get(registered_model__name="cancer-screening", name="champion")
    assert champion.version == version("cancer-screening/1")
    assert champion.set_by.username == "manager"
    assert ModelAliasMove.objects.get().motivation.startswith("The version in production")
