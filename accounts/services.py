"""Writes on people and teams."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from accounts.models import Team, TeamMembership, User
from core.errors import Conflict


@transaction.atomic
def team_create(*, name: str, description: str = "", slug: str = "") -> Team:
    """Create a team; its slug is derived from the name unless given."""
    slug = slug or slugify(name)
    if Team.objects.filter(slug=slug).exists():
        raise Conflict(f"A team with slug '{slug}' already exists.")
    return Team.objects.create(name=name, slug=slug, description=description)


@transaction.atomic
def team_add_member(*, team: Team, user: User) -> TeamMembership:
    """Make ``user`` a member of ``team`` (idempotent)."""
    membership, _ = TeamMembership.objects.get_or_create(team=team, user=user)
    return membership
