"""Reads of accounts."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.constants import ROLE_VERBS
from accounts.models import RoleAssignment, TeamMembership, User


def role_assignment_list() -> QuerySet[RoleAssignment]:
    return RoleAssignment.objects.select_related("user", "role", "team", "granted_by")


def membership_list() -> QuerySet[TeamMembership]:
    return TeamMembership.objects.select_related("user", "team")


def roles_of(user: User) -> QuerySet[RoleAssignment]:
    return role_assignment_list().filter(user=user)


def users_with_verb(verb: str, team_id: int | None) -> QuerySet[User]:
    """Active users who hold ``verb`` through a role, globally or for ``team_id``."""

    roles = [name for name, verbs in ROLE_VERBS.items() if verb in verbs]
    scope = Q(role_assignments__team__isnull=True)
    if team_id is not None:
        scope |= Q(role_assignments__team_id=team_id)
    return User.objects.filter(
        scope, role_assignments__role__name__in=roles, is_active=True
    ).distinct()
