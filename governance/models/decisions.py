"""Decisions: every state change of a model version, with who, why and when."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from governance.choices import Action
from registry.choices import VersionStatus


class Decision(models.Model):
    """One decision on a model version. Written only by the transition service, never changed
    afterwards; the version's status is the ``to_state`` of its latest decision."""

    version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.PROTECT, related_name="decisions"
    )
    action = models.CharField(max_length=24, choices=Action.choices)
    from_state = models.CharField(max_length=32, choices=VersionStatus.choices)
    to_state = models.CharField(max_length=32, choices=VersionStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="decisions"
    )
    motivation = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    request_id = models.CharField(max_length=64, blank=True)
    # The validation round a sign-off belongs to starts at the latest submission.
    round = models.PositiveIntegerField(default=1)
    # The policy this decision was judged by (the effective one: the stricter of every policy
    # the version was under). A later change of the rules cannot rewrite an old verdict, and a
    # version keeps the strictest policy it was ever submitted under.
    policy = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["version", "action", "round"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} of {self.version} by {self.actor}"
