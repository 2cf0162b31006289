"""Fields that record where code ran and with what: shared by runs and model versions."""

from __future__ import annotations

from django.db import models

from registry.validators import validate_image_digest


class CodeAndEnvironment(models.Model):
    """The code (repository, commit, path) and environment (Python, packages, image) of a piece
    of work, so it can be rebuilt."""

    code_repository = models.CharField(max_length=500, blank=True)
    code_commit = models.CharField(max_length=64, blank=True)
    code_path = models.CharField(max_length=500, blank=True)
    python_version = models.CharField(max_length=32, blank=True)
    packages = models.JSONField(
        default=dict, blank=True, help_text="Installed packages: {name: version}."
    )
    image_digest = models.CharField(
        max_length=71,
        blank=True,
        validators=[validate_image_digest],
        help_text="Container image digest, sha256:<hex>.",
    )

    class Meta:
        abstract = True
