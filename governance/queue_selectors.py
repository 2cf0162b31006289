"""The review console's work queue: what waits for a person's decision, and what they watch.

"Awaiting my decision" is narrower than "what I may do": a validator is waited for on
versions to claim and on versions they claimed (or that need one more independent sign-off)
and have not signed this round; a manager on versions ready for approval, approved versions
not yet in production and flagged production versions; an author on their own drafts and on
versions sent back to them. Everything else the person may act on, or that they registered and
that is still under way, is "watching".

Both are querysets built in SQL (``Exists`` and subqueries over the decisions), so the header
badge costs a constant number of queries whatever the number of waiting versions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.choices import Verb
from accounts.models import User
from governance import selectors
from governance.choices import Action
from governance.filters import QueueFilter
from governance.models import Decision
from governance.policy_effective import EffectivePolicy, tier_policy
from registry.choices import VersionStatus as S
from registry.models import ModelVersion

# Most urgent first: production at risk, reviews under way, then what waits to start.
URGENCY = (
    S.FLAGGED,
    S.IN_VALIDATION,
    S.VALIDATED,
    S.APPROVED,
    S.CHANGES_REQUESTED,
    S.SUBMITTED,
    S.DRAFT,
)
# States whose validation has a revalidation date.
VALIDATED_STATES = (S.VALIDATED, S.APPROVED, S.PRODUCTION, S.FLAGGED)
# States an author watches a version of theirs in until it is settled.
UNDER_WAY = (S.SUBMITTED, S.IN_VALIDATION, S.VALIDATED, S.APPROVED)
NEXT_ACTION = {
    S.DRAFT: Action.SUBMIT,
    S.CHANGES_REQUESTED: Action.SUBMIT,
    S.SUBMITTED: Action.CLAIM,
    S.IN_VALIDATION: Action.SIGN_OFF,
    S.VALIDATED: Action.APPROVE,
    S.APPROVED: Action.PROMOTE,
    S.FLAGGED: Action.CLEAR_FLAG,
    S.PRODUCTION: Action.DEPRECATE,
}


def _decisions(action: str, **filters) -> QuerySet[Decision]:
    return Decision.objects.filter(version=OuterRef("pk"), action=action, **filters)


def _annotated(qs: QuerySet[ModelVersion], user: User) -> QuerySet[ModelVersion]:
    """The per-version facts the queue is decided and sorted on, as SQL annotations."""
    current_round = Decision.objects.filter(version=OuterRef("pk")).order_by("-round")
    this_round = {"round": OuterRef("queue_round")}
    return qs.annotate(
        queue_round=Coalesce(Subquery(current_round.values("round")[:1]), Value(0)),
    ).annotate(
        queue_submitted_by_me=Exists(_decisions(Action.SUBMIT, actor=user)),
        queue_claimed_by_me=Exists(_decisions(Action.CLAIM, actor=user, **this_round)),
        queue_signed_by_me=Exists(_decisions(Action.SIGN_OFF, actor=user, **this_round)),
        queue_signed_by_other=Exists(_decisions(Action.SIGN_OFF, **this_round).exclude(actor=user)),
        queue_approved_by_me=Exists(_decisions(Action.APPROVE, actor=user, **this_round)),
    )


def _able(user: User, verb: str) -> QuerySet[ModelVersion]:
    return ModelVersion.objects.restrict(user, verb).values("pk")


def _awaiting_q(user: User) -> Q:
    independent = ~Q(registered_by=user) & Q(queue_submitted_by_me=False)
    validator = Q(pk__in=_able(user, Verb.VALIDATE)) & independent
    claim = Q(status=S.SUBMITTED)
    # Claimed by me, or a colleague signed and another independent sign-off is needed (the
    # version would be validated otherwise); never one I signed or approved this round.
    sign = Q(status=S.IN_VALIDATION, queue_signed_by_me=False, queue_approved_by_me=False) & (
        Q(queue_claimed_by_me=True) | Q(queue_signed_by_other=True)
    )
    manager = Q(pk__in=_able(user, Verb.APPROVE))
    approve = independent & Q(status=S.VALIDATED, queue_signed_by_me=False)
    flagged = Q(status=S.FLAGGED)
    deployer = Q(pk__in=_able(user, Verb.DEPLOY)) & Q(status=S.APPROVED)
    author = Q(
        pk__in=_able(user, Verb.SUBMIT), registered_by=user, status__in=selectors.AUTHOR_STATES
    )
    return (validator & (claim | sign)) | (manager & (approve | flagged)) | deployer | author


def _ordered(qs: QuerySet[ModelVersion]) -> QuerySet[ModelVersion]:
    last_decision = Decision.objects.filter(version=OuterRef("pk")).order_by("-created_at", "-id")
    claimer = _decisions(Action.CLAIM, round=OuterRef("queue_round")).order_by("-created_at")
    sign_offs = (
        _decisions(Action.SIGN_OFF, round=OuterRef("queue_round"))
        .order_by()
        .values("version")
        .annotate(n=Count("actor", distinct=True))
        .values("n")
    )
    return qs.annotate(
        queue_urgency=Case(
            *(When(status=state, then=Value(rank)) for rank, state in enumerate(URGENCY)),
            default=Value(len(URGENCY)),
            output_field=IntegerField(),
        ),
        queue_waiting_since=Coalesce(
            Subquery(last_decision.values("created_at")[:1]),
            "created_at",
            output_field=DateTimeField(),
        ),
        queue_claimed_by_id=Subquery(claimer.values("actor")[:1]),
        queue_sign_offs=Coalesce(Subquery(sign_offs, output_field=IntegerField()), Value(0)),
    ).order_by("queue_urgency", "queue_waiting_since", "pk")


def _filtered(qs: QuerySet[ModelVersion], filters: QueueFilter | None) -> QuerySet[ModelVersion]:
    """``qs`` narrowed by the queue's bound (and valid) FilterSet, if any."""
    return qs if filters is None else filters.filter_queryset(qs)


def awaiting_my_decision(user: User, filters: QueueFilter | None = None) -> QuerySet:
    """Versions waiting for ``user``'s decision, most urgent first, then oldest first."""
    visible = ModelVersion.objects.restrict(user)
    qs = _annotated(visible.exclude(status=S.ARCHIVED), user).filter(_awaiting_q(user))
    return _ordered(_filtered(qs, filters))


def awaiting_count(user: User) -> int:
    """How many versions await ``user``'s decision: the header badge, one query."""
    visible = ModelVersion.objects.restrict(user)
    return _annotated(visible.exclude(status=S.ARCHIVED), user).filter(_awaiting_q(user)).count()


def watching(user: User, filters: QueueFilter | None = None) -> QuerySet:
    """Versions ``user`` may act on but that do not wait for them (in production, claimed by
    a colleague, already signed, to archive), and their own versions under way."""
    waiting = selectors._waiting_versions(user, brief=True).values("pk")
    mine = Q(registered_by=user, status__in=UNDER_WAY)
    awaiting = awaiting_my_decision(user).values("pk")
    visible = ModelVersion.objects.restrict(user)
    qs = visible.filter(Q(pk__in=waiting) | mine).exclude(pk__in=awaiting)
    return _ordered(_filtered(_annotated(qs, user), filters))


@dataclass
class QueueRow:
    """One version of the queue with what its columns show."""

    version: ModelVersion
    claimed_by: User | None
    sign_offs: int
    required_sign_offs: int
    waiting_since: datetime
    due: datetime | None

    @property
    def next_action(self) -> str:
        """The decision the version's state asks for next, for the row's link."""
        return NEXT_ACTION.get(self.version.status, "")

    @property
    def next_label(self) -> str:
        action = self.next_action
        return Action(action).label if action else "Open"

    @property
    def overdue(self) -> bool:
        return self.due is not None and self.due < timezone.now()


def queue_rows(versions) -> list[QueueRow]:
    """Rows for one page of ``awaiting_my_decision`` / ``watching``: each version's effective
    policy from its decisions' snapshots (one query for the page) and its tier's current
    policy (one per tier), the claimer's name (one query)."""
    versions = list(versions)
    ids = [v.pk for v in versions]
    snapshots: dict[int, list[Decision]] = {}
    for d in Decision.objects.filter(version_id__in=ids).order_by("created_at", "id"):
        snapshots.setdefault(d.version_id, []).append(d)
    claimers = User.objects.in_bulk({v.queue_claimed_by_id for v in versions} - {None})
    tiers: dict[str, EffectivePolicy] = {}
    rows = []
    for v in versions:
        tier = v.registered_model.risk_tier
        if tier not in tiers:
            tiers[tier] = tier_policy(tier)
        policy = tiers[tier]
        decisions = snapshots.get(v.pk, [])
        for d in decisions:
            policy = policy.stricter(EffectivePolicy.from_snapshot(d.policy))
        validated = [d.created_at for d in decisions if d.to_state == S.VALIDATED]
        due = None
        if v.status in VALIDATED_STATES and validated:
            due = validated[-1] + timedelta(days=policy.revalidation_days)
        rows.append(
            QueueRow(
                version=v,
                claimed_by=claimers.get(v.queue_claimed_by_id),
                sign_offs=v.queue_sign_offs,
                required_sign_offs=policy.required_sign_offs,
                waiting_since=v.queue_waiting_since,
                due=due,
            )
        )
    return rows


def queue_page_versions(qs: QuerySet[ModelVersion]) -> QuerySet[ModelVersion]:
    """What a queue page draws of each version, joined in the same query."""
    return qs.select_related("registered_model__owner_team", "registered_by")


@dataclass
class QueuePart:
    """One page of one half of the queue: its rows and how many versions it holds in all."""

    count: int
    page: int
    pages: int
    rows: list[QueueRow]


@dataclass
class WorkQueue:
    """The work queue as the inbox page and ``/api/v1/inbox/`` show it."""

    awaiting: QueuePart
    watching: QueuePart


def _queue_part(qs: QuerySet[ModelVersion], page: int, page_size: int) -> QueuePart:
    count = qs.count()
    pages = max(1, -(-count // page_size))
    start = (page - 1) * page_size
    versions = queue_page_versions(qs)[start : start + page_size] if start < count else []
    return QueuePart(count=count, page=page, pages=pages, rows=queue_rows(versions))


def work_queue(
    user: User,
    filters: QueueFilter | None = None,
    *,
    awaiting_page: int = 1,
    watching_page: int = 1,
    page_size: int = 50,
) -> WorkQueue:
    """What awaits ``user``'s decision and what they watch, one page of each: the same
    querysets, order and columns as the inbox page. A page past the last is empty (its
    ``count`` still says how many there are)."""
    return WorkQueue(
        awaiting=_queue_part(awaiting_my_decision(user, filters), awaiting_page, page_size),
        watching=_queue_part(watching(user, filters), watching_page, page_size),
    )
