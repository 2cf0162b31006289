"""Drift of a numeric feature against its profile: PSI over the profile's bins, and a
Kolmogorov-Smirnov test against the profile's quantile grid."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special

from monitoring.stats.drift_common import DriftThresholds, feature_unjudged
from monitoring.stats.profile import bin_counts
from monitoring.stats.values import NUMERIC, json_float, numeric_values

# An empty bin would make PSI infinite; fractions below this count as this. 1e-4 is the usual
# choice: an empty bin facing a 10 % bin then adds about 0.1 * ln(1000) = 0.69.
PSI_EPSILON = 1e-4


def numeric_drift(
    feature: dict[str, Any], array: np.ndarray, thresholds: DriftThresholds
) -> dict[str, Any]:
    """PSI, KS and histograms of a window's values against a numeric feature profile."""
    try:
        values, missing = numeric_values(array)
    except (TypeError, ValueError) as error:
        return feature_unjudged({"kind": NUMERIC}, f"the window's values are not numbers ({error})")
    values.sort()
    result: dict[str, Any] = {
        "kind": NUMERIC,
        "count": len(values),
        "missing": missing,
        "reference_mean": feature["mean"],
        "current_mean": json_float(values.mean()) if len(values) else None,
    }
    if feature["count"] == 0:
        return feature_unjudged(result, "the baseline has no values for this feature")
    if len(values) == 0:
        return feature_unjudged(result, "no values in the window")
    result.update(numeric_metrics(feature, values))
    if len(values) < thresholds.min_count:
        return feature_unjudged(
            result, f"too few values to judge ({len(values)} < {thresholds.min_count})"
        )
    return {**result, **numeric_verdict(result, thresholds)}


def numeric_metrics(feature: dict[str, Any], sorted_values: np.ndarray) -> dict[str, Any]:
    """PSI, KS statistic and p-value, and both histograms, of sorted present values."""
    edges = feature["bin_edges"]
    reference = np.asarray(feature["bin_fractions"], dtype=np.float64)
    current = bin_counts(sorted_values, np.asarray(edges[1:-1], dtype=np.float64))
    current = current / len(sorted_values)
    statistic = ks_statistic(np.asarray(feature["quantiles"], dtype=np.float64), sorted_values)
    return {
        "psi": population_stability_index(reference, current),
        "ks_statistic": statistic,
        "ks_p_value": ks_p_value(statistic, feature["count"], len(sorted_values)),
        "histogram": {
            "bin_edges": edges,
            "reference": reference.tolist(),
            "current": current.tolist(),
        },
    }


def numeric_verdict(result: dict[str, Any], thresholds: DriftThresholds) -> dict[str, Any]:
    """Drifted on a large PSI, or on a large KS distance that is also significant."""
    psi, statistic, p_value = result["psi"], result["ks_statistic"], result["ks_p_value"]
    psi_text = f"PSI {psi:.3g}"
    ks_text = f"KS D {statistic:.3g} (p={p_value:.2g})"
    reasons = []
    if psi >= thresholds.psi:
        reasons.append(f"{psi_text} >= {thresholds.psi}")
    if statistic >= thresholds.ks_statistic and p_value < thresholds.ks_p_value:
        reasons.append(f"{ks_text}: D >= {thresholds.ks_statistic}, p < {thresholds.ks_p_value}")
    if reasons:
        return {"evaluated": True, "drifted": True, "reason": "; ".join(reasons)}
    return {"evaluated": True, "drifted": False, "reason": f"{psi_text}, {ks_text}: stable"}


def population_stability_index(reference: np.ndarray, current: np.ndarray) -> float:
    """PSI = sum((cur - ref) * ln(cur / ref)) over bins, fractions floored at PSI_EPSILON."""
    reference = np.maximum(reference, PSI_EPSILON)
    current = np.maximum(current, PSI_EPSILON)
    return float(np.sum((current - reference) * np.log(current / reference)))


def ks_statistic(quantiles: np.ndarray, sorted_values: np.ndarray) -> float:
    """sup |F_cur - F_ref| between the window's ECDF and the reference CDF interpolated
    linearly between ``quantiles`` (taken at ``linspace(0, 1, len(quantiles))``).

    Exact for that pair of functions: between two consecutive points of either set the ECDF is
    flat and the interpolated CDF monotone, so the supremum is reached at a point's value or
    its left limit, and both are evaluated at every distinct window value and grid point.
    """
    probabilities = np.linspace(0.0, 1.0, len(quantiles))
    return max(
        window_points_gap(quantiles, probabilities, sorted_values),
        grid_points_gap(quantiles, probabilities, sorted_values),
    )


def window_points_gap(
    quantiles: np.ndarray, probabilities: np.ndarray, sorted_values: np.ndarray
) -> float:
    """The largest |F_cur - F_ref| at the window's values and just below them."""
    n = len(sorted_values)
    new_run = sorted_values[1:] != sorted_values[:-1]
    smooth = bool(np.all(quantiles[1:] > quantiles[:-1]))
    if smooth and new_run.all():
        # The common case of a continuous feature: no repeated quantile, so the reference CDF
        # has no jump, and no repeated value, so the ECDF climbs 1/n at each value. Written to
        # allocate few arrays of the window's size: fresh memory costs more than arithmetic.
        gap = np.arange(1, n + 1, dtype=np.float64)
        gap /= n
        gap -= np.interp(sorted_values, quantiles, probabilities)
        return float(max(gap.max(), 1.0 / n - gap.min()))
    last = np.flatnonzero(np.append(new_run, True))  # the last index of each run of equals
    distinct = sorted_values[last]
    current_at = (last + 1) / n
    current_before = np.append(0.0, current_at[:-1])
    if smooth:
        reference_at = reference_before = np.interp(distinct, quantiles, probabilities)
    else:
        reference_at = reference_cdf(quantiles, probabilities, distinct, "right")
        reference_before = reference_cdf(quantiles, probabilities, distinct, "left")
    return float(
        max(
            np.abs(current_at - reference_at).max(), np.abs(current_before - reference_before).max()
        )
    )


def grid_points_gap(
    quantiles: np.ndarray, probabilities: np.ndarray, sorted_values: np.ndarray
) -> float:
    """The largest |F_cur - F_ref| at the grid's quantiles and just below them."""
    n = len(sorted_values)
    current_at = np.searchsorted(sorted_values, quantiles, side="right") / n
    current_before = np.searchsorted(sorted_values, quantiles, side="left") / n
    reference_at = reference_cdf(quantiles, probabilities, quantiles, "right")
    reference_before = reference_cdf(quantiles, probabilities, quantiles, "left")
    return float(
        max(
            np.abs(current_at - reference_at).max(), np.abs(current_before - reference_before).max()
        )
    )


def reference_cdf(
    quantiles: np.ndarray, probabilities: np.ndarray, points: np.ndarray, side: str
) -> np.ndarray:
    """The interpolated reference CDF at ``points`` (``side="right"``), or its left limits
    (``side="left"``). Repeated quantiles are a jump: the CDF takes the last repeat's
    probability at the value and the first repeat's just below it."""
    size = len(quantiles)
    position = np.searchsorted(quantiles, points, side=side)
    lower = np.clip(position - 1, 0, size - 1)
    upper = np.clip(position, 0, size - 1)
    span = quantiles[upper] - quantiles[lower]
    # Inside the grid the two neighbours differ (q[lower] <= x < q[upper] or q[lower] < x <=
    # q[upper]); a zero span only happens at the ends, which are overwritten below.
    step = np.divide(points - quantiles[lower], span, out=np.zeros_like(span), where=span > 0)
    cdf = probabilities[lower] + (probabilities[upper] - probabilities[lower]) * step
    cdf[position == 0] = 0.0
    cdf[position == size] = 1.0
    return cdf


def ks_p_value(statistic: float, reference_count: int, current_count: int) -> float:
    """Two-sided p-value from the asymptotic (Kolmogorov) distribution of the two-sample
    statistic: P(K > sqrt(n m / (n + m)) D). scipy's ``ks_2samp(method="asymp")`` uses the
    finite-n ``kstwo`` instead, which agrees to about 1 % at these sizes but can take 0.2 s
    per call; this one takes microseconds."""
    effective = reference_count * current_count / (reference_count + current_count)
    return float(special.kolmogorov(math.sqrt(effective) * statistic))
