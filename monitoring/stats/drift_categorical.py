"""Drift of a categorical feature against its profile: a chi-square test of homogeneity and the
Jensen-Shannon distance between the two frequency tables."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats
from scipy.spatial import distance

from monitoring.stats.drift_common import DriftThresholds, feature_unjudged
from monitoring.stats.profile import OTHER
from monitoring.stats.values import CATEGORICAL, category_counts

UNSEEN_EXAMPLES = 10


def categorical_drift(
    feature: dict[str, Any], array: np.ndarray, thresholds: DriftThresholds
) -> dict[str, Any]:
    """Chi-square, JS distance and both frequency tables of a window against a categorical
    feature profile. Categories the profile does not know are counted under ``OTHER``."""
    counts, missing = category_counts(array)
    reference: dict[str, int] = feature["frequencies"]
    current, unseen = frequencies_align(reference, counts)
    result: dict[str, Any] = {
        "kind": CATEGORICAL,
        "count": sum(counts.values()),
        "missing": missing,
        "frequencies": {"reference": reference, "current": current},
        "unseen": unseen,
    }
    if feature["count"] == 0:
        return feature_unjudged(result, "the baseline has no values for this feature")
    if result["count"] == 0:
        return feature_unjudged(result, "no values in the window")
    result.update(categorical_metrics(reference, current))
    if result["count"] < thresholds.min_count:
        count, minimum = result["count"], thresholds.min_count
        return feature_unjudged(result, f"too few values to judge ({count} < {minimum})")
    return {**result, **categorical_verdict(result, thresholds)}


def frequencies_align(
    reference: dict[str, int], counts: dict[str, int]
) -> tuple[dict[str, int], dict[str, Any]]:
    """The window's counts over the profile's categories (``OTHER`` taking the unseen ones,
    listed only when it has some), and a summary of the unseen categories."""
    current = dict.fromkeys(reference, 0)
    unseen = {key: count for key, count in counts.items() if key not in reference}
    for key, count in counts.items():
        if key in reference:
            current[key] = count
    if unseen:
        current[OTHER] = current.get(OTHER, 0) + sum(unseen.values())
    examples = sorted(unseen, key=lambda key: (-unseen[key], key))[:UNSEEN_EXAMPLES]
    summary = {"distinct": len(unseen), "count": sum(unseen.values()), "examples": examples}
    return current, summary


def categorical_metrics(reference: dict[str, int], current: dict[str, int]) -> dict[str, Any]:
    """Chi-square statistic, p-value and degrees of freedom, and the JS distance (base 2)."""
    categories = list(current)  # the reference's categories, then OTHER if it was added
    reference_counts = np.array([reference.get(key, 0) for key in categories], dtype=np.float64)
    current_counts = np.array([current[key] for key in categories], dtype=np.float64)
    statistic, p_value, dof = chi_square_homogeneity(reference_counts, current_counts)
    return {
        "chi2_statistic": statistic,
        "chi2_p_value": p_value,
        "chi2_dof": dof,
        "js_distance": float(distance.jensenshannon(reference_counts, current_counts, base=2)),
    }


def chi_square_homogeneity(
    reference_counts: np.ndarray, current_counts: np.ndarray
) -> tuple[float | None, float | None, int]:
    """Pearson's chi-square on the 2 x k table of counts (no continuity correction), as
    ``scipy.stats.chi2_contingency(table, correction=False)``; None when there is a single
    category to compare. A contingency test rather than a goodness of fit against the reference
    proportions: a category the reference never saw has an expected count of zero there."""
    table = np.vstack((reference_counts, current_counts))
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return None, None, 0
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float(((table - expected) ** 2 / expected).sum())
    dof = table.shape[1] - 1
    return statistic, float(stats.chi2.sf(statistic, dof)), dof


def categorical_verdict(result: dict[str, Any], thresholds: DriftThresholds) -> dict[str, Any]:
    """Drifted on a large JS distance, or on a moderate one that chi-square finds significant."""
    js, p_value = result["js_distance"], result["chi2_p_value"]
    js_text = f"JS distance {js:.3g}"
    chi_text = "chi-square n/a" if p_value is None else f"chi-square p={p_value:.2g}"
    if js >= thresholds.js_distance:
        reason = f"{js_text} >= {thresholds.js_distance} ({chi_text})"
        return {"evaluated": True, "drifted": True, "reason": reason}
    significant = p_value is not None and p_value < thresholds.chi2_p_value
    if significant and js >= thresholds.chi2_js_distance:
        reason = (
            f"{js_text} >= {thresholds.chi2_js_distance} with {chi_text} "
            f"< {thresholds.chi2_p_value}"
        )
        return {"evaluated": True, "drifted": True, "reason": reason}
    return {"evaluated": True, "drifted": False, "reason": f"{js_text}, {chi_text}: stable"}
