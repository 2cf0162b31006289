"""What drift checks of both kinds share: the thresholds of the verdict, and the shape of a
feature that could not be judged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DriftThresholds:
    """When a feature counts as drifted, and when a report turns critical.

    The verdict rests on effect sizes: on a window of 200,000 rows a p-value is tiny for a
    difference nobody cares about, so a p-value only ever confirms a large enough effect.

    - numeric: ``psi >= psi``, or ``ks_statistic >= ks_statistic`` with
      ``ks_p_value < ks_p_value``;
    - categorical: ``js_distance >= js_distance``, or ``chi2_p_value < chi2_p_value`` with
      ``js_distance >= chi2_js_distance``;
    - a feature with fewer than ``min_count`` present values in the window is reported but not
      judged (a PSI over a handful of values is noise);
    - the report is critical when the share of drifted features among those judged is at
      least ``critical_share``, or when one feature drifts *severely*: its PSI (numeric) or
      Jensen-Shannon distance (categorical) at least ``severe_factor`` times its threshold
      (a PSI of 1.0 against 0.2); otherwise a warning when any drifted. One feature out of
      thirty at seven times the threshold is not a detail to average away.
    """

    psi: float = 0.2
    ks_statistic: float = 0.1
    ks_p_value: float = 0.05
    js_distance: float = 0.1
    chi2_p_value: float = 0.05
    chi2_js_distance: float = 0.05
    min_count: int = 100
    critical_share: float = 0.5
    severe_factor: float = 5.0


def feature_severity(result: dict[str, Any], thresholds: DriftThresholds) -> float | None:
    """How many times its threshold a judged feature's PSI (numeric) or Jensen-Shannon distance
    (categorical) is; None when it has neither."""
    for key, limit in (("psi", thresholds.psi), ("js_distance", thresholds.js_distance)):
        value = result.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and limit > 0:
            return float(value) / limit
    return None


def feature_unjudged(result: dict[str, Any], reason: str) -> dict[str, Any]:
    """A feature result that takes no part in the verdict, with why."""
    return {**result, "evaluated": False, "drifted": False, "reason": reason}
