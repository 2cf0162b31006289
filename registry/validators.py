"""Field validators for natural keys and hashes."""

from __future__ import annotations

from django.core.validators import RegexValidator

NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,127}$"

validate_name = RegexValidator(
    NAME_PATTERN,
    "Use 1-128 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit.",
    code="invalid_name",
)

validate_sha256 = RegexValidator(
    r"^[0-9a-f]{64}$", "Must be a SHA-256 digest: 64 lower-case hex characters.", code="sha256"
)

validate_image_digest = RegexValidator(
    r"^$|^sha256:[0-9a-f]{64}$", "Must look like sha256:<64 hex characters>.", code="digest"
)
