"""Aliases: a name on a registered model that points at one of its versions (``champion``,
``challenger``), and the history of every move of one, as rows.

Which aliases are protected and who may move them is governance's rule
(``governance.services.aliases``); the rows only hold what the services decided."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from core.models import TimeStampedModel

ALIAS_MAX_LENGTH = 255
# MLflow's rule (mlflow.utils.validation): letters, digits, '_' and '-'; ASCII only here, so
# two aliases never differ by a look-alike character.
ALIAS_PATTERN = r"^[A-Za-z0-9_-]+$"
# Reserved by MLflow: ``latest`` means the newest version, ``v3`` means version 3.
RESERVED_ALIAS = "latest"
VERSION_ALIAS_PATTERN = r"^[vV][0-9]+$"

_alias_characters = RegexValidator(
    ALIAS_PATTERN,
    "An alias uses letters, digits, '_' and '-' only.",
    code="invalid_alias",
)
_version_like = RegexValidator(
    VERSION_ALIAS_PATTERN,
    "An alias may not look like a version number (v<digits>): that name is reserved.",
    code="reserved_alias",
    inverse_match=True,
)


def alias_name_is_protected(name: str) -> bool:
    """Is ``name`` one of the protected aliases (``STEWARD_PROTECTED_ALIASES``)? Compared
    without case, so ``Champion`` is no way around ``champion``. What protection demands is
    governance's rule (``governance.services.aliases``)."""
    return name.lower() in {alias.lower() for alias in settings.STEWARD_PROTECTED_ALIASES}


def validate_alias_name(value: str) -> None:
    """Refuse an alias name MLflow would refuse: empty, over 255 characters, characters other
    than letters, digits, '_' and '-', ``latest`` (any case) or ``v<digits>``."""
    if not value:
        raise ValidationError("An alias needs a name.", code="required")
    if len(value) > ALIAS_MAX_LENGTH:
        raise ValidationError(
            f"An alias has at most {ALIAS_MAX_LENGTH} characters.", code="max_length"
        )
    _alias_characters(value)
    if value.lower() == RESERVED_ALIAS:
        raise ValidationError(
            "'latest' (in any case) is reserved: it always means the newest version.",
            code="reserved_alias",
        )
    _version_like(value)


class ModelAlias(TimeStampedModel):
    """``name`` of ``registered_model`` points at ``version`` (one of its versions). Written
    only by the alias services, which append a :class:`ModelAliasMove` for every change."""

    registered_model = models.ForeignKey(
        "registry.RegisteredModel", on_delete=models.CASCADE, related_name="aliases"
    )
    name = models.CharField(max_length=ALIAS_MAX_LENGTH, validators=[validate_alias_name])
    # PROTECT: a version with an alias is deleted only by the deletion service, which removes
    # the alias first (with its move row and audit event).
    version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.PROTECT, related_name="aliases"
    )
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["registered_model_id", "name"]
        verbose_name_plural = "model aliases"
        constraints = [
            models.UniqueConstraint(
                fields=["registered_model", "name"], name="unique_model_alias_name"
            )
        ]

    def __str__(self) -> str:
        return f"{self.registered_model.name}@{self.name}"

    @property
    def protected(self) -> bool:
        return alias_name_is_protected(self.name)


class ModelAliasMove(models.Model):
    """One move of an alias: set, moved from one version to another, or removed
    (``to_version`` null). Versions are recorded by number, so the history reads the same after
    a draft version it named was deleted. Never changed after it is written."""

    registered_model = models.ForeignKey(
        "registry.RegisteredModel", on_delete=models.CASCADE, related_name="alias_moves"
    )
    alias = models.CharField(max_length=ALIAS_MAX_LENGTH)
    from_version = models.PositiveIntegerField(null=True, blank=True)
    to_version = models.PositiveIntegerField(null=True, blank=True)
    protected = models.BooleanField(default=False)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    motivation = models.TextField()
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["registered_model", "alias"], name="alias_move_lookup")]

    def __str__(self) -> str:
        source = f"v{self.from_version}" if self.from_version is not None else "nothing"
        target = f"v{self.to_version}" if self.to_version is not None else "removed"
        return f"{self.registered_model_id}@{self.alias}: {source} -> {target}"
