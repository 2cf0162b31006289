"""Policies: what a version of a model in each risk tier must show before it moves on."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from core.models import TimeStampedModel
from governance.metric_checks import parse_metric_check
from registry.choices import RiskTier


def validate_metric_checks(value) -> None:
    if not isinstance(value, list):
        raise ValidationError("Metric checks must be a list of expressions like 'auc >= 0.8'.")
    for item in value:
        if not isinstance(item, str):
            raise ValidationError(f"Not an expression: {item!r}.")
        parse_metric_check(item)


def validate_document_names(value) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValidationError("Required documents must be a list of template names.")


class Policy(TimeStampedModel):
    """The governance policy of one risk tier, editable by administrators."""

    risk_tier = models.CharField(max_length=16, choices=RiskTier.choices, unique=True)
    required_sign_offs = models.PositiveSmallIntegerField(
        default=1, help_text="Independent validator sign-offs needed to validate a version."
    )
    metric_checks = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_metric_checks],
        help_text='Checks on the version\'s recorded metrics, e.g. ["auc >= 0.80"].',
    )
    required_documents = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_document_names],
        help_text="Documentation templates that must exist and be current from submission on.",
    )
    approval_documents = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_document_names],
        help_text="Documentation templates whose written sections (by the developers, the "
        "validators, the approvers) must all be written before approval.",
    )
    revalidation_days = models.PositiveIntegerField(
        default=365, help_text="How long a validation stays valid before revalidation is due."
    )
    block_on_open_findings = models.BooleanField(
        default=True, help_text="Open findings on a version block its approval."
    )
    description = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "policies"
        ordering = ["risk_tier"]

    def __str__(self) -> str:
        return f"Policy for {self.get_risk_tier_display().lower()} risk"

    def clean(self) -> None:
        if self.required_sign_offs < 1:
            raise ValidationError({"required_sign_offs": "At least one sign-off is required."})
