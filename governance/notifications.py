"""Who hears about a decision, and how: the people who can act next are e-mailed a link."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mass_mail
from django.urls import reverse

from accounts.models import User
from core.outbox import task_request
from governance import workflow
from governance.models import Decision
from registry.choices import VersionStatus
from registry.permissions import users_who_may


def decision_recorded(decision: Decision) -> None:
    """Called by the transition service inside its transaction."""
    task_request("governance.notify_decision", decision.pk)


def version_url(decision: Decision) -> str:
    version = decision.version
    path = reverse(
        "registry:model-version-detail", args=[version.registered_model.name, version.version]
    )
    return settings.STEWARD_BASE_URL.rstrip("/") + path


def recipients(decision: Decision) -> set[User]:
    """The people who can take the next step, never the one who just decided, and never
    someone separation of duties would stop. The author of the version hears about every
    decision on it."""
    version = decision.version
    model = version.registered_model
    submitters = set(version.decisions.filter(action="submit").values_list("actor_id", flat=True))
    people: set[User] = set()
    for step in workflow.actions_from(decision.to_state):
        if decision.to_state in (VersionStatus.CHANGES_REQUESTED, VersionStatus.DRAFT):
            break  # back with the authors
        candidates = users_who_may(step.verb, model)
        if step.verb in ("validate", "approve"):
            candidates = {
                u for u in candidates if u.pk != version.registered_by_id and u.pk not in submitters
            }
        people |= candidates
    people.add(version.registered_by)
    people.discard(decision.actor)
    return {u for u in people if u.email and u.is_active}


def decision_messages(decision: Decision) -> list[tuple[str, str, str, list[str]]]:
    version = decision.version
    subject = f"[Steward] {version}: {decision.get_action_display().lower()} by {decision.actor}"
    body = (
        f"{decision.actor} decided to {decision.get_action_display().lower()} {version}.\n"
        f"State: {decision.get_from_state_display()} -> {decision.get_to_state_display()}\n\n"
        f"Motivation:\n{decision.motivation}\n\n"
        f"Open the version: {version_url(decision)}\n"
    )
    sender = settings.DEFAULT_FROM_EMAIL
    return [(subject, body, sender, [user.email]) for user in sorted(recipients(decision), key=str)]


def decision_notify(decision: Decision) -> int:
    """Send the e-mails for one decision; returns how many were sent."""
    return send_mass_mail(decision_messages(decision), fail_silently=False)
