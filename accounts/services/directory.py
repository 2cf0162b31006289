"""The directory sync: at each sign-in through the directory (LDAP) or a single sign-on
provider (OIDC), make a user's Steward access say what their groups there say. For LDAP, names
and e-mail come from the entry's attributes (django-auth-ldap copies them) and the groups map
through ``STEWARD_LDAP_GROUP_TEAMS`` / ``_ROLES``; for a provider, ``accounts.services.identities``
refreshes the profile from the claims and its groups map through ``STEWARD_OIDC_GROUP_*``. Both
end in :func:`identity_groups_apply`.

Only what a source granted (``source=LDAP`` / ``OIDC``) is ever taken away by that source; what
an administrator granted in Steward (``source=MANUAL``) is left alone, even when the groups
would grant the same thing. Grants and revocations go through the accounts services with no
actor (the system), so each one is an audit entry like any other, naming provider and group.
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


@dataclass(frozen=True)
class GroupSource:
    """Where a user's groups come from, and what they imply there: the directory (LDAP) or a
    single sign-on provider. ``provider`` names it in the audit chain (``ldap``,
    ``oidc:okta``); ``source`` marks what it grants, so that it takes back only its own."""

    provider: str
    source: str  # a GrantSource
    note_prefix: str  # "Directory group", "Okta group": the note on a role it grants
    role_map: dict[str, tuple[DirectoryGrant, ...]]
    team_map: dict[str, str]


def directory_user_sync(*, user: User, dn: str, group_dns: Iterable[str]) -> DirectorySyncResult:
    """Bring ``user``'s directory-granted team memberships and roles in line with ``group_dns``
    (every group they belong to, nested ones included), and set ``user.directory_dn`` to ``dn``.
    ``user`` must already be saved; saving its fields (django-auth-ldap does, right after the
    sync) is the caller's business."""
    source = GroupSource(
        provider="ldap",
        source=GrantSource.LDAP,
        note_prefix="Directory group",
        role_map=group_roles_parse(settings.STEWARD_LDAP_GROUP_ROLES),
        team_map=group_teams_parse(settings.STEWARD_LDAP_GROUP_TEAMS),
    )
    user.directory_dn = dn[:500]
    return identity_groups_apply(
        user=user, group_source=source, groups={_group_key(group) for group in group_dns}
    )


def identity_groups_apply(
    *, user: User, group_source: GroupSource, groups: Iterable[str]
) -> DirectorySyncResult:
    """The one sync of group-derived access, for the directory and every single sign-on:
    ``user`` joins the teams and gets the roles ``groups`` imply through the source's
    mappings, and loses those the same source granted earlier that the groups no longer imply.
    Grants of another source, and manual ones, are never touched (a manual grant of the same
    thing is simply kept). Every grant and revocation is an audit entry naming the provider and
    the group. ``groups`` are spelled as the mappings' keys."""
    groups = sorted(set(groups))
    wanted_teams: dict[str, str] = {}  # team slug -> the (first) group that implies it
    wanted_roles: dict[RoleKey, str] = {}  # -> the (first) group that grants it, for the note
    for group in groups:
        if group in group_source.team_map:
            wanted_teams.setdefault(group_source.team_map[group], group)
        for grant in group_source.role_map.get(group, ()):
            wanted_roles.setdefault((grant.role, grant.team_slug), group)

    result = DirectorySyncResult()
    with transaction.atomic():
        _sync_memberships(user, group_source, wanted_teams, result)
        _sync_roles(user, group_source, wanted_roles, result)
    if result.changed:
        logger.info(
            "%s sync for %s: joined %s, left %s, granted %s, revoked %s",
            group_source.provider,
            user.username,
            result.teams_joined,
            result.teams_left,
            result.roles_granted,
            result.roles_revoked,
        )
    return result


def _sync_memberships(
    user: User, group_source: GroupSource, wanted: dict[str, str], result: DirectorySyncResult
) -> None:
    held = set(user.memberships.values_list("team__slug", flat=True))
    for slug in sorted(set(wanted) - held):
        team_add_member(
            team=_team_for(slug),
            user=user,
            source=group_source.source,
            audit_extra={"provider": group_source.provider, "group": wanted[slug]},
        )
        result.teams_joined.append(slug)
    stale = TeamMembership.objects.filter(user=user, source=group_source.source).exclude(
        team__slug__in=wanted
    )
    for membership in stale.select_related("team"):
        slug = membership.team.slug
        team_remove_member(
            team=membership.team,
            user=user,
            audit_extra=_taken_back(group_source, _groups_for_team(group_source, slug)),
        )
        result.teams_left.append(slug)


def _sync_roles(
    user: User, group_source: GroupSource, wanted: dict[RoleKey, str], result: DirectorySyncResult
) -> None:
    held = {
        (assignment.role.name, assignment.team.slug if assignment.team_id else None): assignment
        for assignment in RoleAssignment.objects.filter(user=user).select_related("role", "team")
    }
    for key, group in sorted(wanted.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        if key in held:
            continue  # already held, from this source, another or granted by hand: leave it be
        role, slug = key
        role_assign(
            user=user,
            role=role,
            team=_team_for(slug) if slug else None,
            source=group_source.source,
            note=f"{group_source.note_prefix} {group}"[:300],
            audit_extra={"provider": group_source.provider, "group": group},
        )
        result.roles_granted.append(_describe(DirectoryGrant(role, slug)))
    for key, assignment in held.items():
        if assignment.source == group_source.source and key not in wanted:
            role_revoke(
                assignment=assignment,
                audit_extra=_taken_back(group_source, _groups_for_role(group_source, key)),
            )
            result.roles_revoked.append(_describe(DirectoryGrant(*key)))


def _taken_back(group_source: GroupSource, groups: list[str]) -> dict:
    """The audit data of a revocation: the provider, and the group(s) whose membership the
    grant came from and the user no longer has (none when the mapping itself was changed)."""
    return {
        "provider": group_source.provider,
        "group": ", ".join(groups)[:500] if groups else None,
        "reason": "not in the group any more" if groups else "no group maps to it any more",
    }


def _groups_for_team(group_source: GroupSource, slug: str) -> list[str]:
    return sorted(group for group, team in group_source.team_map.items() if team == slug)


def _groups_for_role(group_source: GroupSource, key: RoleKey) -> list[str]:
    grant = DirectoryGrant(*key)
    return sorted(group for group, grants in group_source.role_map.items() if grant in grants)


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
