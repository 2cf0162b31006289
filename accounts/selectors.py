"""Reads of accounts."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.choices import RoleName
from accounts.models import RoleAssignment, TeamMembership, User
from accounts.services import is_administrator


def can_read_access_records(user: User) -> bool:
    """Administrators and global auditors may read who holds which role."""
    return (
        is_administrator(user)
        or RoleAssignment.objects.filter(
            user=user, role__name=RoleName.AUDITOR, team__isnull=True
        ).exists()
    )


def role_assignment_list() -> QuerySet[RoleAssignment]:
    return RoleAssignment.objects.select_related("user", "role", "team", "granted_by")


def membership_list() -> QuerySet[TeamMembership]:
    return TeamMembership.objects.select_related("user", "team")


def roles_of(user: User) -> QuerySet[RoleAssignment]:
    return role_assignment_list().filter(user=user)
