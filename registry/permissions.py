"""Who may write what in the registry, in one place.

This is the walking skeleton's rule: any signed-in user reads the registry; a user registers
models, datasets and runs only for teams they belong to (staff for any team). Object-level
permissions with guardian replace this in the access issue."""

from __future__ import annotations

from accounts.models import Team, User
from core.errors import StewardError


class NotTeamMember(StewardError):
    status_code = 403
    default_code = "permission_denied"


def check_can_write_for_team(user: User, team: Team) -> None:
    if user.is_staff or user.is_superuser:
        return
    if not team.memberships.filter(user=user).exists():
        raise NotTeamMember(f"You are not a member of team '{team.slug}'.")
