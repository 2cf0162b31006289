"""What a check result says in one line, for alert titles: what happened, with the number and
the limit it crossed ("mean_radius drifted: PSI 1.39 > 0.20"), never a bare fraction or score
("Data drift warning, score 0.0333").

Everything here reads the ``details`` a check stored (see ``drift``, ``performance``, ``bias``
and ``health``), tolerant of missing keys: an older or odd result falls back to its kind and
status.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from monitoring.stats.drift_common import DriftThresholds

DRIFT_KINDS = ("drift", "prediction_drift")
# Metrics of the performance check, the first that fell furthest is named.
SCORE_METRICS = ("auc", "accuracy", "f1")
ERROR_METRICS = ("rmse", "mae")


def check_headline(
    kind: str, label: str, status: str, score: float | None, details: Mapping[str, Any] | None
) -> str:
    """One line saying what a check of ``kind`` (``label`` is its human name) found."""
    details = details if isinstance(details, Mapping) else {}
    if kind in DRIFT_KINDS:
        found = drift_headline(details, outputs=kind == "prediction_drift")
    elif kind == "performance":
        found = performance_headline(details)
    elif kind == "bias":
        found = bias_headline(details)
    elif kind == "health":
        found = health_headline(score, details)
    else:
        found = None
    return found or f"{label} {status}"


def drift_headline(details: Mapping[str, Any], *, outputs: bool = False) -> str | None:
    """The feature that drifted furthest past its threshold, its measure against the limit,
    and how many others drifted."""
    features = details.get("features")
    if not isinstance(features, Mapping):
        return None
    limits = _thresholds(details)
    drifted = [
        (name, measure)
        for name, result in features.items()
        if isinstance(result, Mapping) and result.get("drifted")
        for measure in [_drift_measure(result, limits)]
    ]
    if not drifted:
        return None
    drifted.sort(key=lambda item: (-(item[1][3] if item[1] else 0.0), str(item[0])))
    name, measure = drifted[0]
    text = f"{name} drifted"
    if measure is not None:
        metric, value, limit, _ = measure
        text += f": {metric} {_decimal(value)} {'>' if value > limit else '≥'} {_decimal(limit)}"
    others = len(drifted) - 1
    if others:
        noun = "output" if outputs else "feature"
        text += f" (and {others} more {noun}{'s' if others > 1 else ''})"
    return f"output {text}" if outputs else text


def _thresholds(details: Mapping[str, Any]) -> DriftThresholds:
    recorded = details.get("thresholds")
    defaults = DriftThresholds()
    if not isinstance(recorded, Mapping):
        return defaults
    values = {
        key: float(recorded[key])
        for key in ("psi", "js_distance", "ks_statistic")
        if _finite(recorded.get(key))
    }
    return DriftThresholds(**{**defaults.__dict__, **values})


def _drift_measure(
    result: Mapping[str, Any], limits: DriftThresholds
) -> tuple[str, float, float, float] | None:
    """(metric, value, limit, value / limit) of the measure that made a feature drift: PSI,
    else the Kolmogorov-Smirnov statistic, else the Jensen-Shannon distance."""
    candidates = (
        ("PSI", result.get("psi"), limits.psi),
        ("KS", result.get("ks_statistic"), limits.ks_statistic),
        ("JS distance", result.get("js_distance"), limits.js_distance),
    )
    for metric, value, limit in candidates:
        if _finite(value) and limit > 0 and value >= limit:
            return metric, float(value), limit, float(value) / limit
    return None


def performance_headline(details: Mapping[str, Any]) -> str | None:
    """The metric that moved furthest the wrong way against the version's own evaluation."""
    metrics, reference = details.get("metrics"), details.get("reference")
    if not isinstance(metrics, Mapping) or not isinstance(reference, Mapping):
        return None
    worst: tuple[float, str] | None = None
    for name in (*SCORE_METRICS, *ERROR_METRICS):
        now, then = metrics.get(name), reference.get(name)
        if not _finite(now) or not _finite(then):
            continue
        lower_is_better = name in ERROR_METRICS
        if lower_is_better and then <= 0:
            continue
        harm = (now / then - 1) if lower_is_better else (then - now)
        if harm > 0 and (worst is None or harm > worst[0]):
            verb = "rose" if lower_is_better else "fell"
            text = f"{name} {verb} to {_significant(now)} from {_significant(then)} at validation"
            worst = (harm, text)
    return worst[1] if worst else None


def bias_headline(details: Mapping[str, Any]) -> str | None:
    """The first reason of the first attribute flagged."""
    attributes = details.get("attributes")
    if not isinstance(attributes, Mapping):
        return None
    for attribute, entry in attributes.items():
        if isinstance(entry, Mapping) and entry.get("flagged"):
            reasons = entry.get("reasons") or []
            reason = f": {reasons[0]}" if reasons else ""
            return f"bias on {attribute}{reason}"
    return None


def health_headline(score: float | None, details: Mapping[str, Any]) -> str | None:
    """The score, and what held it down: the check that capped it, or the worst reason."""
    if not _finite(score):
        return None
    text = f"health {_significant(score)}/100"
    cap = details.get("cap")
    reasons = details.get("reasons")
    if isinstance(cap, Mapping) and cap.get("by"):
        return f"{text}: {cap['by']} is {cap.get('band', 'failing')}"
    if isinstance(reasons, list) and reasons:
        return f"{text}: {str(reasons[0]).split(':', 1)[0]}"
    return text


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _decimal(value: float) -> str:
    """A drift measure as people compare them: two decimals (0.20, 1.39), three significant
    digits when smaller (0.0042)."""
    return f"{value:.2f}" if abs(value) >= 0.01 or value == 0 else f"{value:.2g}"


def _significant(value: float) -> str:
    """Three significant digits, no trailing zeros: 0.812, 55.5, 12.3, 100."""
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
