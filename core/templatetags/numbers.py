"""Numbers formatted for people in templates: ``{% load numbers %}``.

- ``number``: significant digits, no trailing zeros, thousands separated (92.7, 0.931, 12,345);
  ``number:0`` for whole numbers;
- ``percent``: a rate (0-1) as a percentage with significant digits (0.0333 -> "3.33 %");
- ``metric``: a metric by its name: a rate (accuracy, precision, recall, shares and rates) as a
  percentage, anything else (AUC, PSI, RMSE...) as a ``number``.

None, text and non-finite values are shown as they are ("—" for None), never raise: a template
filter that raises breaks the whole page.
"""

from __future__ import annotations

import math
from typing import Any

from django import template

register = template.Library()

SIGNIFICANT = 3
EMPTY = "—"
# Metrics that are rates (a share of rows): shown as percentages.
RATE_NAMES = frozenset(
    {"accuracy", "precision", "recall", "specificity", "error_rate", "drifted_share"}
)
RATE_SUFFIXES = ("_rate", "_share")


def _finite(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def significant(value: float, digits: int = SIGNIFICANT) -> str:
    """``value`` to ``digits`` significant digits without trailing zeros; large numbers whole
    with thousands separators (never "1.23e+04"), tiny ones in scientific notation."""
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude >= digits - 1:
        return f"{round(value):,}"
    if magnitude < -4:
        return f"{value:.{digits - 1}e}"
    decimals = digits - 1 - magnitude
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.filter
def number(value: Any, digits: Any = SIGNIFICANT) -> str:
    """A number as people read it; ``number:0`` rounds to a whole number."""
    if value is None or value == "":
        return EMPTY
    found = _finite(value)
    if found is None:
        return str(value)
    try:
        digits = int(digits)
    except (TypeError, ValueError):
        digits = SIGNIFICANT
    if digits == 0:
        return f"{round(found):,}"
    return significant(found, digits)


@register.filter
def percent(value: Any, digits: Any = SIGNIFICANT) -> str:
    """A rate between 0 and 1 as a percentage: 0.927 -> "92.7 %"."""
    if value is None or value == "":
        return EMPTY
    found = _finite(value)
    if found is None:
        return str(value)
    return f"{number(found * 100, digits)} %"


def is_rate(name: str) -> bool:
    name = str(name or "").lower()
    return name in RATE_NAMES or name.endswith(RATE_SUFFIXES)


@register.filter
def metric(value: Any, name: str = "") -> str:
    """A metric by its name: a rate as a percentage, anything else as a number."""
    return percent(value) if is_rate(name) else number(value)
