"""Governance roles and who holds them, globally or for one team."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.choices import GrantSource, RoleName
from core.models import TimeStampedModel


class Role(TimeStampedModel):
    """A governance role. Its verbs are fixed in code (``ROLE_VERBS``) so separation of duties
    cannot be edited away; its description and required qualifications are the
    administrators' to write."""

    name = models.CharField(max_length=32, choices=RoleName.choices, unique=True)
    description = models.TextField(blank=True)
    qualifications = models.TextField(
        blank=True, help_text="What someone must have (training, independence) to hold it."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.get_name_display()


class RoleAssignment(TimeStampedModel):
    """That ``user`` holds ``role`` everywhere (no team) or for one team's models, datasets and
    runs. Roles for a single registered model live in the registry
    (``registry.ModelRoleAssignment``), which may depend on accounts but not the reverse."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="assignments")
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="role_assignments",
        help_text="Empty: the role holds for every team.",
    )
    source = models.CharField(
        max_length=16, choices=GrantSource.choices, default=GrantSource.MANUAL
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty when granted by the directory sync.",
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["user__username", "role__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "team"],
                name="unique_team_role_assignment",
                condition=Q(team__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                name="unique_global_role_assignment",
                condition=Q(team__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        scope = self.team.name if self.team_id else "all teams"
        return f"{self.user} is {self.role} for {scope}"
