"""Annotations: threaded notes, questions and findings on governed objects and decisions."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

from core.models import TimeStampedModel
from governance.choices import AnnotationKind


class Annotation(TimeStampedModel):
    """A Markdown note on a registered model, version, dataset, run or decision. Replies point
    at their ``parent``; a finding stays open until someone resolves it."""

    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    target_id = models.BigIntegerField()
    target = GenericForeignKey("target_type", "target_id")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replies"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="annotations"
    )
    kind = models.CharField(max_length=16, choices=AnnotationKind.choices, default="note")
    body = models.TextField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["target_type", "target_id", "kind", "resolved_at"])]

    def __str__(self) -> str:
        target = f"{self.target_type.model} {self.target_id}"
        return f"{self.get_kind_display()} by {self.author} on {target}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
