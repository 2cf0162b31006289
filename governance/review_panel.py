"""The review section of the version page: status, the policy's guards, the decision form, the
decision timeline and the annotation thread. Registered on the registry's version page by
``GovernanceConfig.ready()`` (see ``registry.panels``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from accounts.choices import RoleName
from accounts.constants import ROLE_VERBS
from core.markdown_text import markdown_html
from governance import selectors, workflow
from governance.choices import Action, AnnotationKind
from governance.constants import MIN_MOTIVATION_LENGTH
from governance.forms import DESTRUCTIVE_ACTIONS, MAX_MOTIVATION, THREAD_KINDS
from governance.guards import GuardResult, policy_for
from governance.models import Annotation
from governance.services.annotations import (
    annotation_resolve_refusal,
    can_annotate,
    version_developer_ids,
)
from registry.choices import VersionStatus
from registry.models import ModelVersion

TEMPLATE = "governance/_review_panel.html"
# Replies deeper than this are drawn at this indentation: a thread stays readable.
MAX_INDENT = 3
TRACKED_KINDS = (AnnotationKind.QUESTION, AnnotationKind.FINDING)
UNDER_REVIEW = (
    VersionStatus.DRAFT,
    VersionStatus.CHANGES_REQUESTED,
    VersionStatus.SUBMITTED,
    VersionStatus.IN_VALIDATION,
)


@dataclass
class ThreadEntry:
    """One annotation in a thread, with its Markdown body rendered and sanitised."""

    annotation: Annotation
    body_html: SafeString
    depth: int = 0

    @property
    def indent(self) -> int:
        return min(self.depth, MAX_INDENT)

    @property
    def tracked(self) -> bool:
        """Questions and findings are open until someone resolves them; notes are not."""
        return self.annotation.kind in TRACKED_KINDS


@dataclass
class Thread:
    """A top-level annotation and every reply below it, in reading order."""

    root: ThreadEntry
    replies: list[ThreadEntry] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.root.annotation.is_open


def _entry(annotation: Annotation, depth: int) -> ThreadEntry:
    # markdown_html passes the HTML through nh3, which drops scripts, event handlers, styles
    # and javascript: links; only that sanitised output is marked safe.
    return ThreadEntry(annotation, mark_safe(markdown_html(annotation.body)), depth)  # noqa: S308


def annotation_threads(annotations: Iterable[Annotation]) -> list[Thread]:
    """Group annotations into threads by ``parent``, oldest first at every level."""
    annotations = list(annotations)
    children: dict[int | None, list[Annotation]] = {}
    for annotation in annotations:
        children.setdefault(annotation.parent_id, []).append(annotation)
    known = {a.pk for a in annotations}
    threads = []
    for root in annotations:
        if root.parent_id is not None and root.parent_id in known:
            continue
        thread = Thread(_entry(root, 0))
        stack = [(child, 1) for child in reversed(children.get(root.pk, []))]
        while stack:
            annotation, depth = stack.pop()
            thread.replies.append(_entry(annotation, depth))
            stack.extend((child, depth + 1) for child in reversed(children.get(annotation.pk, [])))
        threads.append(thread)
    return threads


def guard_verdict(guard: GuardResult, version: ModelVersion) -> str:
    """``pass``, ``fail``, or ``pending`` for sign-offs still being gathered: missing sign-offs
    are the expected state of a version under review, not a problem with it."""
    if guard.passed:
        return "pass"
    if guard.name == workflow.ENOUGH_SIGN_OFFS and version.status in UNDER_REVIEW:
        return "pending"
    return "fail"


# What each decision means, for its button's colour: go ahead, send back, end the road.
TONES = {
    Action.SIGN_OFF: "go",
    Action.APPROVE: "go",
    Action.SUBMIT: "go",
    Action.CLEAR_FLAG: "go",
    Action.PROMOTE: "go",
    Action.REQUEST_CHANGES: "caution",
    Action.REVISE: "caution",
    Action.FLAG: "caution",
    Action.REJECT: "danger",
    Action.DEPRECATE: "danger",
    Action.ARCHIVE: "danger",
}
# What a button does beyond its name, where the name alone would mislead.
NOTES = {
    Action.PROMOTE: "Records the decision only: no deployment is created. Deploying it live or "
    "as a canary in production (Monitoring) promotes it by itself.",
    Action.SIGN_OFF: "Counts as one independent sign-off; the version is validated once the "
    "policy has them all.",
}


@dataclass
class DecisionButton:
    """One decision the viewer may take now, as its own button."""

    option: selectors.ActionOption

    @property
    def action(self) -> str:
        return self.option.action

    @property
    def label(self) -> str:
        return self.option.label

    @property
    def tone(self) -> str:
        return TONES.get(self.action, "neutral")

    @property
    def destructive(self) -> bool:
        return self.action in DESTRUCTIVE_ACTIONS

    @property
    def note(self) -> str:
        return NOTES.get(self.action, "")


def decision_refusals(user, version: ModelVersion, options) -> list[str]:
    """Why no decision on ``version`` is open to ``user`` now, from what the workflow and its
    guards already know: the state, the role each step needs, and each guard that blocks."""
    steps = [t for t in workflow.actions_from(version.status) if t.action != Action.RECLASSIFY]
    if not steps:
        return [
            f"This version is {version.get_status_display().lower()}: "
            "no decision leads on from this state."
        ]
    reasons = []
    held = {o.action for o in options}
    for step in steps:
        label = Action(step.action).label
        if step.action not in held:
            roles = [
                RoleName(role).label.lower()
                for role, verbs in ROLE_VERBS.items()
                if step.verb in verbs
            ]
            reasons.append(
                f"{label}: needs the {' or '.join(roles)} role on this model; you do not hold it."
            )
    for option in options:
        if not option.allowed:
            why = "; ".join(g.reason for g in option.blocked_by)
            reasons.append(f"{option.label}: {why}")
    return list(dict.fromkeys(reasons))


def review_panel_context(
    request: HttpRequest, version: ModelVersion, state: Mapping[str, Any]
) -> dict[str, Any]:
    """What the review section shows ``request.user`` about ``version``. ``state`` holds a
    refused decision or note (``{"decision": {...}}`` / ``{"annotation": {...}}``: the posted
    values and the error) to show again beside its form."""
    user = request.user
    summary = selectors.governance_summary(user, version)
    threads = annotation_threads(selectors.annotations_on(version))
    open_entries = [
        e for t in threads for e in (t.root, *t.replies) if e.tracked and e.annotation.is_open
    ]
    developers = version_developer_ids(version)
    return {
        "mv": version,
        "summary": summary,
        "policy": policy_for(version),
        "guards": [(guard, guard_verdict(guard, version)) for guard in summary.policy_guards],
        "allowed_options": [o for o in summary.options if o.allowed],
        "decision_buttons": [DecisionButton(o) for o in summary.options if o.allowed],
        "destructive_open": " / ".join(
            o.label.lower()
            for o in summary.options
            if o.allowed and o.action in DESTRUCTIVE_ACTIONS
        ),
        "refusals": []
        if any(o.allowed for o in summary.options)
        else decision_refusals(user, version, summary.options),
        "blocked_options": [o for o in summary.options if not o.allowed],
        "decisions": list(selectors.decision_history(version)),
        "threads": threads,
        "open_count": len(open_entries),
        "may_resolve": {
            e.annotation.pk
            for e in open_entries
            if not annotation_resolve_refusal(
                user, e.annotation, target=version, developers=developers
            )
        },
        "may_annotate": can_annotate(user, version),
        "annotation_kinds": [(kind.value, kind.label) for kind in THREAD_KINDS],
        "min_motivation": MIN_MOTIVATION_LENGTH,
        "max_motivation": MAX_MOTIVATION,
        "decision_form": state.get("decision", {}),
        "annotation_form": state.get("annotation", {}),
    }
