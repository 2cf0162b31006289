"""Roles held for one registered model."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel


class ModelRoleAssignment(TimeStampedModel):
    """That ``user`` holds ``role`` for one registered model (and its versions) only, e.g. an
    external validator engaged for a single model. The grant is materialised as django-guardian
    object permissions on the model by the service that creates it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="model_role_assignments"
    )
    role = models.ForeignKey("accounts.Role", on_delete=models.PROTECT, related_name="+")
    registered_model = models.ForeignKey(
        "registry.RegisteredModel", on_delete=models.CASCADE, related_name="role_assignments"
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["registered_model__name", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "registered_model"], name="unique_model_role_assignment"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} for {self.registered_model}"
