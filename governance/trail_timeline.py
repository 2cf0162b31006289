"""The auditor's decisions view: per model version, the story of its review as a timeline
(submitted, claimed, finding raised, changes requested, signed off by whom in which role and
why, approved, put in production...), with people named and no raw ids.

It reads the decision rows and the findings, not the raw log: one decision is one line here,
where the raw log holds its hash-chained event, the field changes it caused and the documents it
regenerated. The raw log (``governance.trail``) stays one click away and is what exports
contain. The same filters apply to both (model, version, user, period); callers check
``accounts.access.may(user, Verb.READ_AUDIT)`` first."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import Max, Q, QuerySet

from governance.choices import Action, AnnotationKind
from governance.decision_roles import decision_role
from governance.models import Annotation, Decision
from governance.trail import TrailFilters, trail_keys
from registry.choices import VersionStatus
from registry.models import ModelVersion

TIMELINE_VERSIONS_PER_PAGE = 10

# What happened, in the past tense an auditor reads.
DONE_LABELS: dict[str, str] = {
    Action.SUBMIT: "Submitted for validation",
    Action.CLAIM: "Claimed for validation",
    Action.SIGN_OFF: "Signed off",
    Action.REQUEST_CHANGES: "Changes requested",
    Action.REJECT: "Rejected",
    Action.REVISE: "Returned to draft",
    Action.APPROVE: "Approved for production",
    Action.PROMOTE: "Put in production",
    Action.FLAG: "Flagged for review",
    Action.CLEAR_FLAG: "Flag cleared",
    Action.DEPRECATE: "Deprecated",
    Action.ARCHIVE: "Archived",
    Action.RECLASSIFY: "Reclassified",
}
FINDING_RAISED = "finding"
FINDING_RESOLVED = "finding_resolved"


def person_label(user) -> str:
    """A person as the timeline names them: their name (display name, else full name) and
    username, or the username alone."""
    if user is None:
        return "—"
    username, name = user.get_username(), str(user)
    return f"{name} ({username})" if name and name != username else username


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a version's timeline: a decision, or a finding raised or resolved."""

    at: datetime
    kind: str  # a decision's action, or FINDING_RAISED / FINDING_RESOLVED
    label: str
    actor: str
    role: str = ""
    text: str = ""
    from_state: str = ""
    to_state: str = ""
    round: int | None = None

    @property
    def is_decision(self) -> bool:
        return self.kind not in (FINDING_RAISED, FINDING_RESOLVED)

    @property
    def state_change(self) -> str:
        """The move the decision made ("In validation → Validated"), or "" if none."""
        if not self.from_state or self.from_state == self.to_state:
            return ""
        return f"{VersionStatus(self.from_state).label} → {VersionStatus(self.to_state).label}"


@dataclass
class VersionTimeline:
    """A version and its timeline, oldest first."""

    version: ModelVersion
    entries: list[TimelineEntry] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.version.registered_model.name} v{self.version.version}"

    @property
    def decision_count(self) -> int:
        return sum(1 for e in self.entries if e.is_decision)


def _decisions(filters: TrailFilters) -> QuerySet[Decision]:
    decisions = Decision.objects.all()
    if filters.model:
        decisions = decisions.filter(version__registered_model__name=filters.model)
    if filters.version_parts:
        name, number = filters.version_parts
        decisions = decisions.filter(version__registered_model__name=name, version__version=number)
    if filters.user:
        decisions = decisions.filter(actor__username__iexact=filters.user)
    if filters.since:
        decisions = decisions.filter(created_at__gte=filters.since)
    if filters.until:
        decisions = decisions.filter(created_at__lt=filters.until)
    return decisions


def timeline_decision_count(filters: TrailFilters) -> int:
    """How many decisions match the filters (the timeline's headline number)."""
    return _decisions(filters).count()


def timeline_raw_count(filters: TrailFilters) -> int:
    """How many raw log entries (audit events and field changes) the same filters match: what
    the raw log tab lists."""
    keys = trail_keys(replace(filters, action="", source=""))
    return len(keys) if isinstance(keys, list) else keys.count()


def timeline_version_ids(filters: TrailFilters) -> QuerySet:
    """The ids of the versions with matching decisions, the most recently decided first:
    paginate this, then pass a page to :func:`version_timelines`."""
    return (
        _decisions(filters)
        .order_by()
        .values("version")
        .annotate(last=Max("created_at"))
        .order_by("-last", "-version")
        .values_list("version", flat=True)
    )


def version_timelines(version_ids: list[int], filters: TrailFilters) -> list[VersionTimeline]:
    """The timelines of ``version_ids`` (a page of :func:`timeline_version_ids`), in that
    order: their matching decisions and the findings raised or resolved on them."""
    versions = ModelVersion.objects.select_related("registered_model").in_bulk(version_ids)
    timelines = {pk: VersionTimeline(versions[pk]) for pk in version_ids if pk in versions}
    decisions = list(
        _decisions(filters)
        .filter(version_id__in=timelines)
        .select_related("actor")
        .order_by("created_at", "id")
    )
    for decision in decisions:
        timelines[decision.version_id].entries.append(_decision_entry(decision))
    for version_id, entry in _finding_entries(timelines, decisions, filters):
        timelines[version_id].entries.append(entry)
    for timeline in timelines.values():
        timeline.entries.sort(key=lambda e: e.at)
    return list(timelines.values())


def _decision_entry(decision: Decision) -> TimelineEntry:
    actor = decision.actor
    label = DONE_LABELS.get(decision.action, decision.get_action_display())
    return TimelineEntry(
        at=decision.created_at,
        kind=decision.action,
        label=label,
        actor=person_label(actor),
        role=decision_role(decision, actor.get_username()),
        text=decision.motivation,
        from_state=decision.from_state,
        to_state=decision.to_state,
        round=decision.round,
    )


def _finding_entries(
    timelines: dict[int, VersionTimeline], decisions: list[Decision], filters: TrailFilters
) -> list[tuple[int, TimelineEntry]]:
    """Findings on the versions and on their decisions: raised (by its author) and resolved
    (by who resolved it, with the motivation they wrote), within the filters' period."""
    version_type = ContentType.objects.get_for_model(ModelVersion)
    decision_type = ContentType.objects.get_for_model(Decision)
    decision_versions = {d.pk: d.version_id for d in decisions}
    decision_versions.update(
        Decision.objects.filter(version_id__in=timelines).values_list("pk", "version_id")
    )
    findings = Annotation.objects.filter(
        Q(target_type=version_type, target_id__in=list(timelines))
        | Q(target_type=decision_type, target_id__in=list(decision_versions)),
        kind=AnnotationKind.FINDING,
    ).select_related("author", "resolved_by")
    reasons = _resolution_motivations(findings)
    entries = []
    for finding in findings:
        version_id = (
            finding.target_id
            if finding.target_type_id == version_type.pk
            else decision_versions.get(finding.target_id)
        )
        if version_id is None:
            continue
        raised = TimelineEntry(
            finding.created_at,
            FINDING_RAISED,
            "Finding raised",
            person_label(finding.author),
            text=finding.body,
        )
        if _in_period(raised.at, filters) and _by(finding.author, filters):
            entries.append((version_id, raised))
        if finding.resolved_at is not None:
            resolved = TimelineEntry(
                finding.resolved_at,
                FINDING_RESOLVED,
                "Finding resolved",
                person_label(finding.resolved_by),
                text=reasons.get(finding.pk, ""),
            )
            if _in_period(resolved.at, filters) and _by(finding.resolved_by, filters):
                entries.append((version_id, resolved))
    return entries


def _resolution_motivations(findings: QuerySet[Annotation]) -> dict[int, str]:
    """Each resolved finding's motivation (the reply the resolve service writes)."""
    rows = Annotation.objects.filter(
        parent__in=findings.values("pk"), kind=AnnotationKind.MOTIVATION
    ).order_by("created_at", "id")
    return {row.parent_id: row.body for row in rows}


def _in_period(at: datetime, filters: TrailFilters) -> bool:
    return (filters.since is None or at >= filters.since) and (
        filters.until is None or at < filters.until
    )


def _by(user, filters: TrailFilters) -> bool:
    return not filters.user or (
        user is not None and user.get_username().lower() == filters.user.lower()
    )
