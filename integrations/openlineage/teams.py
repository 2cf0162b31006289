"""Which team an event writes for, and what the sender may do in the team a dataset belongs to.

The decisions here depend only on the sender's roles and the configured namespace mapping, never
on whether another team holds some dataset: so no answer can tell a sender what another team
has (see ``integrations.openlineage.datasets``)."""

from __future__ import annotations

from enum import Enum

from django.conf import settings

from accounts.access import team_scope
from accounts.choices import Verb
from accounts.models import Team, User
from core.errors import Forbidden, InvalidInput
from integrations.openlineage.constants import NAMESPACE_TEAMS_SETTING
from integrations.openlineage.namespace_teams import namespace_team_slug


class Access(Enum):
    CHANGE = "change"
    VIEW = "view"
    NONE = "none"


def team_access(actor: User, team: Team) -> Access:
    """What ``actor`` may do with the records of ``team``."""
    for verb, access in ((Verb.CHANGE, Access.CHANGE), (Verb.VIEW, Access.VIEW)):
        scope = team_scope(actor, verb)
        if scope.everywhere or team.pk in scope.team_ids:
            return access
    return Access.NONE


def mapped_team(namespace: str) -> Team | None:
    """The team the namespace mapping names for ``namespace``, or None when unmapped."""
    mapping = getattr(settings, NAMESPACE_TEAMS_SETTING, {}) or {}
    slug = namespace_team_slug(mapping, namespace)
    if slug is None:
        return None
    team = Team.objects.filter(slug=slug).first()
    if team is None:
        raise InvalidInput(
            f"Namespace '{namespace}' is mapped to a team that does not exist; an administrator "
            f"must correct {NAMESPACE_TEAMS_SETTING}.",
            field_errors={"namespace": ["Mapped to an unknown team."]},
        )
    return team


def event_team(actor: User, namespace: str) -> Team:
    """The team an event's run (or DatasetEvent's dataset) belongs to: the one the mapping
    names for ``namespace``, else the one team the sender belongs to and may write in."""
    team = mapped_team(namespace)
    if team is not None:
        if team_access(actor, team) is not Access.CHANGE:
            raise Forbidden(f"This user may not write lineage for namespace '{namespace}'.")
        return team
    scope = team_scope(actor, Verb.CHANGE)
    teams = [
        team
        for team in Team.objects.filter(memberships__user=actor).order_by("slug")
        if scope.everywhere or team.pk in scope.team_ids
    ]
    if not teams:
        raise Forbidden(
            "This user may register runs and datasets in no team of theirs, so it cannot "
            "write lineage (a contributor role in a team it belongs to is needed)."
        )
    if len(teams) > 1:
        slugs = ", ".join(team.slug for team in teams)
        raise InvalidInput(
            f"This user writes for several teams ({slugs}); Steward cannot tell which one "
            f"namespace '{namespace}' belongs to. Map it in {NAMESPACE_TEAMS_SETTING}, or send "
            "with a token of a user of one team.",
            field_errors={"namespace": ["Not mapped to a team."]},
        )
    return teams[0]
