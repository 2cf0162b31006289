"""Metric checks such as ``auc >= 0.80``: parsed once, evaluated against a version's metrics."""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

_OPERATORS = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
_CHECK = re.compile(
    r"^\s*([A-Za-z_][\w.\-]*)\s*(>=|<=|==|!=|>|<)\s*(-?\d+(?:\.\d+)?(?:[eE]-?\d+)?)\s*$"
)


@dataclass(frozen=True)
class MetricCheck:
    metric: str
    op: str
    threshold: float

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.threshold:g}"

    def evaluate(self, metrics: dict) -> tuple[bool, str]:
        """(passed, why) for a version's recorded ``metrics``."""
        value = metrics.get(self.metric)
        if value is None:
            return False, f"{self.metric} is not recorded"
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            return False, f"{self.metric} is not a finite number"
        passed = _OPERATORS[self.op](value, self.threshold)
        return passed, f"{self.metric} = {value:g} ({'meets' if passed else 'fails'} {self})"


def parse_metric_check(text: str) -> MetricCheck:
    match = _CHECK.match(text)
    if not match:
        raise ValidationError(
            f"'{text}' is not a metric check; write it like 'auc >= 0.80' "
            f"(operators: {', '.join(_OPERATORS)})."
        )
    metric, op, threshold = match.groups()
    return MetricCheck(metric, op, float(threshold))
