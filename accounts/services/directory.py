"""The directory sync: at each LDAP login, make a user's Steward record say what the directory
says. Names and e-mail come from the entry's attributes (django-auth-ldap copies them); team
memberships and roles come from the user's directory groups, through the mappings in
``STEWARD_LDAP_GROUP_TEAMS`` and ``STEWARD_LDAP_GROUP_ROLES``.

Only what the directory granted (``source=LDAP``) is ever taken away here; what an
administrator granted in Steward (``source=MANUAL``) is left alone, even when the directory
would grant the same thing. Grants and revocations go through the accounts services with no
actor (the system), so each one is an audit entry like any other.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from accounts.choices import GrantSource
from accounts.models import RoleAssignment, Team, TeamMembership, User
from accounts.services.teams import (
    role_assign,
    role_revoke,
    team_add_member,
    team_create,
    team_remove_member,
)
from config.directory import (
    DirectoryGrant,
    dn_normalize,
    group_roles_parse,
    group_teams_parse,
)
from core.errors import Conflict

logger = logging.getLogger(__name__)

# (role name, team slug or None): one role assignment, the way the mappings name it.
RoleKey = tuple[str, str | None]


@dataclass
class DirectorySyncResult:
    """What one sync changed, for the log."""

    teams_joined: list[str] = field(default_factory=list)
    teams_left: list[str] = field(default_factory=list)
    roles_granted: list[str] = field(default_factory=list)
    roles_revoked: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any((self.teams_joined, self.teams_left, self.roles_granted, self.roles_revoked))


def directory_mappings_in_use() -> bool:
    """Whether any group is mapped; without a mapping nobody needs the user's groups."""
    return bool(settings.STEWARD_LDAP_GROUP_ROLES or settings.STEWARD_LDAP_GROUP_TEAMS)


def directory_user_sync(*, user: User, dn: str, group_dns: Iterable[str]) -> DirectorySyncResult:
    """Bring ``user``'s directory-granted team memberships and roles in line with ``group_dns``
    (every group they belong to, nested ones included), and set ``user.directory_dn`` to ``dn``.
    ``user`` must already be saved; saving its fields (django-auth-ldap does, right after the
    sync) is the caller's business."""
    role_map = group_roles_parse(settings.STEWARD_LDAP_GROUP_ROLES)
    team_map = group_teams_parse(settings.STEWARD_LDAP_GROUP_TEAMS)
    groups = sorted({_group_key(group) for group in group_dns})
    wanted_teams = {team_map[group] for group in groups if group in team_map}
    wanted_roles: dict[RoleKey, str] = {}  # -> the (first) group that grants it, for the note
    for group in groups:
        for grant in role_map.get(group, ()):
            wanted_roles.setdefault((grant.role, grant.team_slug), group)

    user.directory_dn = dn[:500]
    result = DirectorySyncResult()
    with transaction.atomic():
        _sync_memberships(user, wanted_teams, result)
        _sync_roles(user, wanted_roles, result)
    if result.changed:
        logger.info(
            "directory sync for %s: joined %s, left %s, granted %s, revoked %s",
            user.username,
            result.teams_joined,
            result.teams_left,
            result.roles_granted,
            result.roles_revoked,
        )
    return result


def _sync_memberships(user: User, wanted: set[str], result: DirectorySyncResult) -> None:
    held = set(user.memberships.values_list("team__slug", flat=True))
    for slug in sorted(wanted - held):
        team_add_member(team=_team_for(slug), user=user, source=GrantSource.LDAP)
        result.teams_joined.append(slug)
    stale = TeamMembership.objects.filter(user=user, source=GrantSource.LDAP).exclude(
        team__slug__in=wanted
    )
    for membership in stale.select_related("team"):
        team_remove_member(team=membership.team, user=user)
        result.teams_left.append(membership.team.slug)


def _sync_roles(user: User, wanted: dict[RoleKey, str], result: DirectorySyncResult) -> None:
    held = {
        (assignment.role.name, assignment.team.slug if assignment.team_id else None): assignment
        for assignment in RoleAssignment.objects.filter(user=user).select_related("role", "team")
    }
    for key, group in sorted(wanted.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        if key in held:
            continue  # already held, from the directory or granted by hand: leave it be
        role, slug = key
        role_assign(
            user=user,
            role=role,
            team=_team_for(slug) if slug else None,
            source=GrantSource.LDAP,
            note=f"Directory group {group}"[:300],
        )
        result.roles_granted.append(_describe(DirectoryGrant(role, slug)))
    for key, assignment in held.items():
        if assignment.source == GrantSource.LDAP and key not in wanted:
            role_revoke(assignment=assignment)
            result.roles_revoked.append(_describe(DirectoryGrant(*key)))


def _team_for(slug: str) -> Team:
    """The team with ``slug``, created (by the system, audited) the first time a directory
    group names it. Its name is the slug in words, or the slug itself if that name is taken."""
    team = Team.objects.filter(slug=slug).first()
    if team is not None:
        return team
    name = slug.replace("-", " ").replace("_", " ").title()
    if Team.objects.filter(name=name).exists():
        name = slug
    logger.info("directory sync creates team %s", slug)
    try:
        return team_create(name=name, slug=slug, description="Created for a directory group.")
    except Conflict:  # a concurrent login of another member created it first
        return Team.objects.get(slug=slug)


def _group_key(dn: str) -> str:
    """A group DN as the mappings spell it; a DN the server sends that will not parse (it
    should not happen) is compared as it is rather than failing the login."""
    try:
        return dn_normalize(dn)
    except ValueError:
        logger.warning("directory sent a group DN that does not parse: %r", dn)
        return dn.lower()


def _describe(grant: DirectoryGrant) -> str:
    return f"{grant.role}@{grant.team_slug}" if grant.team_slug else grant.role
