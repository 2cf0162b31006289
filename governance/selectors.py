"""Reads of governance: what waits for whom, what a user may do to a version, its history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.access import may
from accounts.models import User
from governance import workflow
from governance.choices import Action
from governance.guards import (
    GuardResult,
    guard_context,
    guards_evaluate,
    policy_report,
)
from governance.models import Annotation, Decision
from governance.queue_selectors import awaiting_count
from registry import selectors as registry_selectors
from registry.choices import VersionStatus
from registry.models import ModelVersion

AUTHOR_STATES = (VersionStatus.DRAFT, VersionStatus.CHANGES_REQUESTED)


@dataclass
class ActionOption:
    """One action a user might take on a version now, and whether the guards let them."""

    transition: workflow.Transition
    allowed: bool
    blocked_by: list[GuardResult] = field(default_factory=list)

    @property
    def action(self) -> str:
        return self.transition.action

    @property
    def label(self) -> str:
        return Action(self.transition.action).label


def action_options(user: User, version: ModelVersion) -> list[ActionOption]:
    """The actions leaving the version's state that ``user`` holds the permission for, each
    with the guards that currently block it (if any)."""
    options = []
    ctx = None
    for step in workflow.actions_from(version.status):
        if not may(user, step.verb, version):
            continue
        ctx = ctx or guard_context(version, user)
        failed = [g for g in guards_evaluate(step.guards, ctx) if not g.passed]
        options.append(ActionOption(step, allowed=not failed, blocked_by=failed))
    return options


def _waiting_versions(user: User, *, brief: bool = False) -> QuerySet[ModelVersion]:
    """Versions in a state one of the user's verbs can move on (authors: only their own
    drafts and sent-back versions), before separation of duties is applied. ``brief``: with
    their model only (what permissions and guards read), not everything a list shows."""
    if brief:
        visible = ModelVersion.objects.select_related("registered_model").restrict(user)
    else:
        visible = registry_selectors.model_version_list(user)
    base = visible.exclude(status=VersionStatus.ARCHIVED)
    states_by_verb: dict[tuple[str, bool], set[str]] = {}
    for step in workflow.TRANSITIONS:
        key = (step.verb, step.source in AUTHOR_STATES)
        states_by_verb.setdefault(key, set()).add(step.source)
    waiting = Q(pk__in=[])
    for (verb, authors_only), states in states_by_verb.items():
        able = ModelVersion.objects.restrict(user, verb).filter(status__in=states)
        if authors_only:
            able = able.filter(registered_by=user)
        waiting |= Q(pk__in=able.values("pk"))
    return base.filter(waiting).order_by("updated_at")


def inbox_count(user: User) -> int:
    """The header badge: how many versions await ``user``'s decision (not everything they may
    act on; see ``governance.queue_selectors``), counted in one SQL query."""
    return awaiting_count(user)


def decision_history(version: ModelVersion) -> QuerySet[Decision]:
    return version.decisions.select_related("actor").order_by("created_at", "id")


def annotations_on(target) -> QuerySet[Annotation]:
    return Annotation.objects.filter(
        target_type=ContentType.objects.get_for_model(target), target_id=target.pk
    ).select_related("author", "resolved_by")


@dataclass
class GovernanceSummary:
    version: ModelVersion
    policy_guards: list[GuardResult]
    options: list[ActionOption]
    validated_at: datetime | None
    revalidation_due_at: datetime | None
    revalidation_overdue: bool
    sign_offs: int
    required_sign_offs: int


def governance_summary(user: User, version: ModelVersion) -> GovernanceSummary:
    """What the version page shows about governance for ``user``."""
    ctx = guard_context(version, user)
    validated_at = ctx.validated_at
    due = validated_at + timedelta(days=ctx.policy.revalidation_days) if validated_at else None
    live = version.status in (
        VersionStatus.VALIDATED,
        VersionStatus.APPROVED,
        VersionStatus.PRODUCTION,
        VersionStatus.FLAGGED,
    )
    return GovernanceSummary(
        version=version,
        policy_guards=policy_report(version),
        options=action_options(user, version),
        validated_at=validated_at,
        revalidation_due_at=due,
        revalidation_overdue=bool(live and due and due < timezone.now()),
        sign_offs=len(ctx.sign_off_actor_ids),
        required_sign_offs=ctx.policy.required_sign_offs,
    )
