"""Stored artifact files, addressed by content."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q

from accounts.access import GovernedQuerySet, team_scope
from accounts.choices import Verb
from registry.validators import validate_sha256


class ArtifactQuerySet(GovernedQuerySet):
    """An upload belongs to no team: who may see it follows from the records that use it."""

    def restrict(self, user, verb: str = Verb.VIEW) -> ArtifactQuerySet:
        """Uploads the user may see, and so read the bytes of: their own, one a model version
        they may view points at, or one made by the creator of a dataset version they may view
        that declares those bytes' hash. A hash declared on a record proves nothing (anyone can
        copy a hash); an upload proves its uploader held the bytes. Only viewing is asked of
        an upload (``verb`` is view)."""
        if verb != Verb.VIEW:
            raise ValueError(f"Uploads are only viewed, not asked '{verb}'.")
        if team_scope(user, Verb.VIEW).everywhere:
            return self
        # The versions' models, named through the app registry: they import this module.
        get_model = self.model._meta.apps.get_model
        versions = get_model("registry", "ModelVersion").objects.restrict(user)
        dataset_versions = (
            get_model("registry", "DatasetVersion")
            .objects.filter(content_hash=OuterRef("sha256"), created_by=OuterRef("uploaded_by"))
            .restrict(user)
        )
        return self.filter(
            Q(uploaded_by=user)
            | Q(pk__in=versions.values("artifact_id"))
            | Exists(dataset_versions)
        )


class Artifact(models.Model):
    """One user's upload of bytes to Steward's artifact store. The bytes are stored once, at a
    path derived from their SHA-256; each uploader has a row of their own (their name for it,
    their time), so uploading bytes someone else already stored tells nothing about that
    other upload. Reading the bytes needs a row the reader may see
    (:func:`registry.selectors.artifact_readable`)."""

    sha256 = models.CharField(max_length=64, db_index=True, validators=[validate_sha256])
    size_bytes = models.BigIntegerField()
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="artifacts"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ArtifactQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["sha256", "uploaded_by"], name="unique_artifact_upload_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.original_name or 'artifact'} ({self.sha256[:12]})"

    @property
    def uri(self) -> str:
        return f"steward://artifacts/{self.sha256}"

    @property
    def relative_path(self) -> str:
        return f"sha256/{self.sha256[:2]}/{self.sha256[2:4]}/{self.sha256}"
