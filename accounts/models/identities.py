"""Identities at a single sign-on provider, linked to Steward accounts."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel


class ExternalIdentity(TimeStampedModel):
    """That the person a provider knows by ``subject`` (the OIDC ``sub`` claim) is ``user``.

    The single sign-on finds accounts only through these rows, never by username or e-mail: a
    local account is never taken over by a provider identity of the same name. A row is made
    when the sign-on creates an account, or by an administrator who links an existing account
    (``accounts.services.identities.external_identity_link``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="external_identities"
    )
    provider = models.CharField(
        max_length=64, help_text="The provider's key, e.g. 'okta' (STEWARD_OIDC_PROVIDER)."
    )
    subject = models.CharField(
        max_length=255, help_text="The provider's stable identifier of the person ('sub')."
    )

    class Meta:
        ordering = ["provider", "subject"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "subject"], name="unique_external_identity_subject"
            ),
            # One identity per provider and account: two subjects for one account would let
            # either person act as the other.
            models.UniqueConstraint(
                fields=["provider", "user"], name="unique_external_identity_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.subject} -> {self.user}"
