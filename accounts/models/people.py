"""People and the teams that own models."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from accounts.choices import GrantSource
from core.models import TimeStampedModel


class User(AbstractUser):
    """A Steward user: a person, or the owner of automation tokens. Custom from the first
    migration so later fields (directory DN, qualifications) need no swap."""

    display_name = models.CharField(max_length=150, blank=True)
    directory_dn = models.CharField(
        max_length=500, blank=True, help_text="Distinguished name in the directory (LDAP users)."
    )

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username


class Team(TimeStampedModel):
    """A group of people that owns registered models and datasets."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=150, unique=True)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(User, through="TeamMembership", related_name="teams")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TeamMembership(TimeStampedModel):
    """That a user belongs to a team."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    source = models.CharField(
        max_length=16, choices=GrantSource.choices, default=GrantSource.MANUAL
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="unique_team_membership")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"
