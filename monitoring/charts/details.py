"""Reading the ``details`` of drift check results as the charts and pages need them,
tolerant of missing keys: features with their PSI or Jensen-Shannon distance and verdict, the
thresholds the check judged with, and one feature's baseline and current histogram."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_BINS = 20
# The drift verdict's default thresholds (monitoring.stats.drift_common.DriftThresholds); a
# check that recorded its own under details["thresholds"] is read with those.
PSI_THRESHOLD = 0.2
JS_THRESHOLD = 0.1


@dataclass(frozen=True)
class FeatureDrift:
    """One feature of a drift check's details, as the charts and pages read it."""

    name: str
    kind: str
    metric: str  # "PSI" or "JS"
    value: float | None
    threshold: float
    drifted: bool
    reason: str
    result: Mapping[str, Any]


def number(value: Any) -> float | None:
    """A finite float, or None for anything else (missing, None, NaN, text)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def drift_thresholds(details: Mapping[str, Any]) -> tuple[float, float]:
    """The PSI and Jensen-Shannon thresholds a drift check judged with."""
    recorded = details.get("thresholds") if isinstance(details, Mapping) else None
    recorded = recorded if isinstance(recorded, Mapping) else {}
    psi = number(recorded.get("psi"))
    js = number(recorded.get("js_distance"))
    return (PSI_THRESHOLD if psi is None else psi, JS_THRESHOLD if js is None else js)


def drift_features(details: Mapping[str, Any]) -> list[FeatureDrift]:
    """The features of a drift check's details, most drifting first. A feature's value is its
    PSI when it has one (numeric features), else its Jensen-Shannon distance (categorical)."""
    features = details.get("features") if isinstance(details, Mapping) else None
    if not isinstance(features, Mapping):
        return []
    psi_threshold, js_threshold = drift_thresholds(details)
    found = []
    for name, result in features.items():
        if not isinstance(result, Mapping):
            continue
        psi = number(result.get("psi"))
        metric, value, threshold = "PSI", psi, psi_threshold
        if psi is None:
            metric, value, threshold = "JS", number(result.get("js_distance")), js_threshold
        found.append(
            FeatureDrift(
                name=str(name),
                kind=str(result.get("kind", "")),
                metric=metric,
                value=value,
                threshold=threshold,
                drifted=bool(result.get("drifted")),
                reason=str(result.get("reason", "")),
                result=result,
            )
        )
    return sorted(found, key=lambda f: (not f.drifted, -(f.value or 0.0), f.name))


def feature_histogram(result: Mapping[str, Any]) -> tuple[list[str], list[float], list[float]]:
    """Bin labels and the baseline and current shares of one feature's drift result. Reads
    a numeric ``histogram`` (``bin_edges``, ``reference``, ``current`` shares), categorical
    ``frequencies`` (``reference`` and ``current`` counts per category), or the flat keys
    ``baseline_fractions``, ``current_fractions`` and ``bin_edges`` or ``categories``."""
    frequencies = result.get("frequencies")
    if isinstance(frequencies, Mapping):
        return _category_shares(frequencies.get("reference"), frequencies.get("current"))
    source = result.get("histogram") if isinstance(result.get("histogram"), Mapping) else result
    baseline = source.get("baseline_fractions", source.get("reference"))
    current = source.get("current_fractions", source.get("current"))
    if not isinstance(baseline, list) or not isinstance(current, list):
        return [], [], []
    size = min(len(baseline), len(current))
    baseline = [number(v) or 0.0 for v in baseline[:size]]
    current = [number(v) or 0.0 for v in current[:size]]
    categories = source.get("categories")
    edges = source.get("bin_edges")
    if isinstance(categories, list) and len(categories) >= size:
        labels = [str(c) for c in categories[:size]]
    elif isinstance(edges, list) and len(edges) == size + 1:
        labels = [_bin_label(edges[i], edges[i + 1]) for i in range(size)]
    else:
        labels = [f"bin {i + 1}" for i in range(size)]
    return labels, baseline, current


def _category_shares(reference: Any, current: Any) -> tuple[list[str], list[float], list[float]]:
    """Shares of each category in two tables of counts, the most frequent ``MAX_BINS``."""
    if not isinstance(reference, Mapping) or not isinstance(current, Mapping):
        return [], [], []
    reference_total = sum(number(v) or 0.0 for v in reference.values()) or 1.0
    current_total = sum(number(v) or 0.0 for v in current.values()) or 1.0
    shares = {
        str(name): (
            (number(reference.get(name)) or 0.0) / reference_total,
            (number(current.get(name)) or 0.0) / current_total,
        )
        for name in dict.fromkeys([*reference, *current])
    }
    shown = sorted(shares, key=lambda name: -max(shares[name]))[:MAX_BINS]
    return shown, [shares[n][0] for n in shown], [shares[n][1] for n in shown]


def _bin_label(low: Any, high: Any) -> str:
    low, high = number(low), number(high)
    if low is None and high is None:
        return "all"
    if low is None:
        return f"< {_compact(high)}"
    if high is None:
        return f"≥ {_compact(low)}"
    return f"{_compact(low)}–{_compact(high)}"


def _compact(value: float) -> str:
    """A bin edge in a few characters: 35000 -> 35k, 0.125 -> 0.125, 2500000 -> 2.5M."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"
