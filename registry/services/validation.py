"""Shape checks for the free-form JSON a client sends with provenance records.

Serializers check these too, but services are also called by commands and tasks, so the rules
live here once."""

from __future__ import annotations

import math
from typing import Any

from core.errors import InvalidInput

MAX_JSON_KEYS = 2000


def require_mapping(field: str, value: Any) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(
            f"{field} must be an object.", field_errors={field: ["Expected an object."]}
        )
    if len(value) > MAX_JSON_KEYS:
        raise InvalidInput(
            f"{field} has too many keys.",
            field_errors={field: [f"At most {MAX_JSON_KEYS} keys are allowed."]},
        )
    return value


def require_metrics(field: str, value: Any) -> dict[str, float]:
    """Metrics are ``{name: finite number}`` so that policies can compare them."""
    metrics = require_mapping(field, value)
    bad = [
        name
        for name, number in metrics.items()
        if isinstance(number, bool)
        or not isinstance(number, int | float)
        or not math.isfinite(number)
    ]
    if bad:
        raise InvalidInput(
            f"{field} values must be finite numbers.",
            field_errors={field: [f"Not a finite number: {', '.join(sorted(map(str, bad)))}."]},
        )
    return metrics


def require_packages(field: str, value: Any) -> dict[str, str]:
    packages = require_mapping(field, value)
    if not all(isinstance(v, str) for v in packages.values()):
        raise InvalidInput(
            f"{field} must map package names to version strings.",
            field_errors={field: ["Every version must be a string."]},
        )
    return packages
