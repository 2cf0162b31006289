"""Bias of a model's decisions across the groups of a protected attribute: selection rates,
true positive rates, and the usual fairness gaps between groups.

Rows with a missing group or prediction are left out (counted in ``missing``); rows with a
missing truth only leave the true positive rates.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from monitoring.stats.status import Status
from monitoring.stats.values import (
    ColumnValues,
    category_key,
    column_array,
    lengths_check,
    missing_mask,
    numeric_with_gaps,
)


@dataclass(frozen=True)
class BiasThresholds:
    """When a bias report is flagged.

    - ``disparate_impact_ratio`` (lowest / highest selection rate, and each group's rate over
      the reference group's) below ``min_impact_ratio``: the four-fifths rule;
    - ``demographic_parity_difference`` (highest - lowest selection rate) above
      ``max_parity_difference``;
    - ``equal_opportunity_difference`` (highest - lowest true positive rate) above
      ``max_opportunity_difference``.

    Only groups with at least ``min_group_size`` rows take part: a rate over a handful of rows
    says little, and the smallest group would decide every gap. For the same reason a group's
    true positive rate takes part only over at least ``min_positives`` actual positives (a day
    whose diagnoses are still coming back has few).
    """

    min_impact_ratio: float = 0.8
    max_parity_difference: float = 0.1
    max_opportunity_difference: float = 0.1
    min_group_size: int = 30
    min_positives: int = 30


def bias_report(
    groups: ColumnValues,
    y_pred_positive: ColumnValues,
    y_true_positive: ColumnValues | None = None,
    reference_group: Any = None,
    thresholds: BiasThresholds | None = None,
) -> dict[str, Any]:
    """Per-group rates, the gaps between judged groups and a verdict (JSON-serialisable).

    ``y_pred_positive`` and ``y_true_positive`` are booleans (or 0/1) per row; group values are
    compared as strings (``values.category_key``), which the report uses as keys.
    """
    thresholds = thresholds or BiasThresholds()
    group_array, predicted = column_array(groups), numeric_with_gaps(column_array(y_pred_positive))
    truth = None if y_true_positive is None else numeric_with_gaps(column_array(y_true_positive))
    lengths_check(group_array, predicted, truth)
    keep = ~missing_mask(group_array) & ~np.isnan(predicted)
    keys, codes = group_codes(group_array[keep])
    table = group_table(keys, codes, predicted[keep] != 0, None if truth is None else truth[keep])
    reference = None if reference_group is None else category_key(reference_group)
    summary = gaps_summarise(table, reference, thresholds)
    reasons = bias_reasons(summary, reference, thresholds)
    judged = sum(1 for group in table.values() if group["judged"])
    status = Status.UNKNOWN if judged < 2 else Status.WARNING if reasons else Status.OK
    return {
        "n": int(keep.sum()),
        "missing": int(len(keep) - keep.sum()),
        "groups": table,
        "reference_group": reference,
        **summary,
        "flagged": bool(reasons),
        "status": status.value,
        "reasons": reasons,
        "thresholds": asdict(thresholds),
    }


def group_codes(values: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The distinct group keys, and each row's index among them."""
    uniques, inverse = np.unique(values, return_inverse=True)
    keys: list[str] = []
    position: dict[str, int] = {}
    remap = np.empty(len(uniques), dtype=np.intp)
    for index, value in enumerate(uniques.tolist()):
        key = str(category_key(value))
        remap[index] = position.setdefault(key, len(keys))
        if remap[index] == len(keys):
            keys.append(key)
    return keys, remap[inverse]


def group_table(
    keys: list[str], codes: np.ndarray, selected: np.ndarray, truth: np.ndarray | None
) -> dict[str, dict[str, Any]]:
    """n, selected count and selection rate per group, and with the truth its positives and
    true positive rate (None for a group without positives)."""
    size = len(keys)
    counts = np.bincount(codes, minlength=size)
    chosen = np.bincount(codes[selected], minlength=size)
    table = {
        key: {
            "n": int(counts[i]),
            "selected": int(chosen[i]),
            "selection_rate": float(chosen[i] / counts[i]),
        }
        for i, key in enumerate(keys)
    }
    if truth is not None:
        positive = ~np.isnan(truth) & (truth != 0)
        actual = np.bincount(codes[positive], minlength=size)
        hits = np.bincount(codes[positive & selected], minlength=size)
        for i, key in enumerate(keys):
            table[key]["actual_positives"] = int(actual[i])
            table[key]["true_positive_rate"] = float(hits[i] / actual[i]) if actual[i] else None
    return table


def gaps_summarise(
    table: dict[str, dict[str, Any]], reference: str | None, thresholds: BiasThresholds
) -> dict[str, Any]:
    """The gaps between judged groups (marking each group judged or not on the way), and which
    groups have the lowest and highest rates."""
    for group in table.values():
        group["judged"] = group["n"] >= thresholds.min_group_size
    judged = {key: group for key, group in table.items() if group["judged"]}
    selection = rates_extremes(judged, "selection_rate")
    with_positives = {
        key: group
        for key, group in judged.items()
        if group.get("actual_positives", 0) >= thresholds.min_positives
    }
    opportunity = rates_extremes(with_positives, "true_positive_rate")
    return {
        "demographic_parity_difference": rates_gap(judged, selection),
        "disparate_impact_ratio": rates_ratio(judged, selection),
        "disparate_impact_ratio_vs_reference": reference_ratios(table, judged, reference),
        "equal_opportunity_difference": rates_gap(judged, opportunity, "true_positive_rate"),
        "selection_rate_extremes": selection,
        "true_positive_rate_extremes": opportunity,
    }


def rates_extremes(judged: dict[str, dict[str, Any]], field: str) -> dict[str, str] | None:
    """The groups with the lowest and the highest rate (None with fewer than two rates)."""
    rated = [key for key, group in judged.items() if group.get(field) is not None]
    if len(rated) < 2:
        return None
    ordered = sorted(rated, key=lambda key: judged[key][field])
    return {"lowest": ordered[0], "highest": ordered[-1]}


def rates_gap(
    judged: dict[str, dict[str, Any]],
    extremes: dict[str, str] | None,
    field: str = "selection_rate",
) -> float | None:
    """Highest minus lowest rate."""
    if extremes is None:
        return None
    return judged[extremes["highest"]][field] - judged[extremes["lowest"]][field]


def rates_ratio(judged: dict[str, dict[str, Any]], extremes: dict[str, str] | None) -> float | None:
    """Lowest over highest selection rate (None when nobody is selected)."""
    if extremes is None or judged[extremes["highest"]]["selection_rate"] == 0:
        return None
    lowest = judged[extremes["lowest"]]["selection_rate"]
    return lowest / judged[extremes["highest"]]["selection_rate"]


def reference_ratios(
    table: dict[str, dict[str, Any]], judged: dict[str, dict[str, Any]], reference: str | None
) -> float | None:
    """Each group's selection rate over the reference group's, written into the table; the
    lowest ratio among the other judged groups is returned. None when the reference group is
    not given, not judged (absent or too small), or selects nobody."""
    if reference is None or reference not in judged:
        return None
    reference_rate = judged[reference]["selection_rate"]
    if reference_rate == 0:
        return None
    for group in table.values():
        group["impact_ratio_vs_reference"] = group["selection_rate"] / reference_rate
    others = [
        group["impact_ratio_vs_reference"] for key, group in judged.items() if key != reference
    ]
    return min(others) if others else None


def bias_reasons(
    summary: dict[str, Any], reference: str | None, thresholds: BiasThresholds
) -> list[str]:
    """One sentence per threshold crossed (empty when nothing is)."""
    selection, opportunity = (
        summary["selection_rate_extremes"],
        summary["true_positive_rate_extremes"],
    )
    between = "" if selection is None else f" ({selection['lowest']!r} vs {selection['highest']!r})"
    reasons = []
    ratio = summary["disparate_impact_ratio"]
    if ratio is not None and ratio < thresholds.min_impact_ratio:
        reasons.append(
            f"disparate impact ratio {ratio:.3f} < {thresholds.min_impact_ratio}{between}"
        )
    ratio = summary["disparate_impact_ratio_vs_reference"]
    if ratio is not None and ratio < thresholds.min_impact_ratio:
        reasons.append(
            f"disparate impact ratio vs {reference!r} {ratio:.3f} < {thresholds.min_impact_ratio}"
        )
    gap = summary["demographic_parity_difference"]
    if gap is not None and gap > thresholds.max_parity_difference:
        reasons.append(
            f"demographic parity difference {gap:.3f} > {thresholds.max_parity_difference}{between}"
        )
    gap = summary["equal_opportunity_difference"]
    if gap is not None and gap > thresholds.max_opportunity_difference:
        limit = thresholds.max_opportunity_difference
        pair = f"({opportunity['lowest']!r} vs {opportunity['highest']!r})"
        reasons.append(f"equal opportunity difference {gap:.3f} > {limit} {pair}")
    return reasons
