"""SAML messages Steward has accepted, so none is accepted twice."""

from __future__ import annotations

from django.db import models


class SamlMessageUse(models.Model):
    """That a SAML response or assertion (by its ID, unique per issuer) was used to sign in.

    A second sign-on with the same ID is a replay and is refused, whichever browser or worker
    process presents it (the outstanding-request check of pysaml2 only covers the browser that
    started the sign-on). Rows are kept until well after the message expires
    (:func:`accounts.saml.replay.saml_message_uses_prune`)."""

    issuer = models.CharField(max_length=1024)
    message_id = models.CharField(max_length=256)
    used_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "message_id"], name="unique_saml_message_use"
            ),
        ]
        indexes = [models.Index(fields=["used_at"], name="saml_message_use_used_at")]

    def __str__(self) -> str:
        return f"{self.issuer} {self.message_id}"
