"""The charts of a deployment's page, (a) to (f): drift per feature over time, the latest
drift check per feature, one feature's baseline against current histogram, performance over
time, KPI values over time and the health score over time."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.utils.safestring import SafeString
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from monitoring.charts.details import (
    MAX_BINS,
    drift_features,
    drift_thresholds,
    feature_histogram,
    number,
)
from monitoring.charts.drawing import (
    AMBER,
    BLUE,
    GREY,
    HEIGHT_INCHES,
    INK,
    MAX_POINTS,
    PALETTE,
    RED,
    axes_finish,
    figure_new,
    label_safe,
    line_add,
    oldest_first,
    status_dots_add,
    svg_of,
    text_width,
    threshold_add,
)

TOP_FEATURES = 5
MAX_BARS = 15
CLASSIFICATION_METRICS = ("auc", "accuracy", "f1")
REGRESSION_METRICS = ("rmse", "mae")
# Drawn charts are kept this long under a key naming everything drawn (see chart_cached);
# bump CACHE_GENERATION when the drawing changes.
CACHE_SECONDS = 60 * 60
CACHE_GENERATION = 3


@dataclass(frozen=True)
class Chart:
    """One chart for a page: ``svg`` to embed, or ``empty_text`` to show in its place."""

    key: str
    title: str
    svg: SafeString | None = None
    empty_text: str = ""


def chart_cached(parts: Sequence[Any], build: Callable[[], Chart]) -> Chart:
    """``build()``, or the chart it built earlier for the same ``parts``. Check results and KPI
    values are never changed once stored, so their ids (with any threshold drawn) name a
    picture exactly; drawing one takes matplotlib a few hundred milliseconds."""
    digest = hashlib.sha256(repr((CACHE_GENERATION, *parts)).encode()).hexdigest()
    key = f"monitoring:chart:{digest}"
    chart = cache.get(key)
    if chart is None:
        chart = build()
        cache.set(key, chart, CACHE_SECONDS)
    return chart


def drift_trend_chart(checks: Iterable[Any], *, top: int = TOP_FEATURES) -> Chart:
    """(a) PSI of each feature over time, one line per feature, for the ``top`` features with
    the highest PSI in any of the checks; the PSI threshold dashed."""
    key, title = "drift-trend", "Drift per feature over time (PSI)"
    checks = oldest_first(checks)
    if not checks:
        return Chart(key, title, empty_text="No drift checks yet.")
    series: dict[str, list[tuple[datetime, float]]] = {}
    for check in checks:
        for feature in drift_features(check.details):
            if feature.metric == "PSI" and feature.value is not None:
                series.setdefault(feature.name, []).append((check.window_end, feature.value))
    if not series:
        return Chart(key, title, empty_text="The drift checks have no PSI values yet.")
    worst = sorted(series, key=lambda name: (-max(v for _, v in series[name]), name))[:top]
    fig, ax = figure_new(legend=[*(label_safe(name) for name in worst), "PSI threshold"])
    for index, name in enumerate(worst):
        line_add(ax, series[name], index, label_safe(name))
    threshold_add(ax, drift_thresholds(checks[-1].details)[0], "PSI threshold", RED)
    axes_finish(ax, title, "Window end", "PSI", dates=True, legend=True)
    ax.set_ylim(bottom=0)
    return Chart(key, title, svg_of(fig, key, title))


def drift_features_chart(check: Any | None) -> Chart:
    """(b) The latest drift check per feature: PSI (numeric) or Jensen-Shannon distance
    (categorical) as horizontal bars, drifted ones red, each bar's threshold dashed."""
    key, title = "drift-features", "Latest drift check per feature"
    features = drift_features(check.details) if check is not None else []
    features = [f for f in features if f.value is not None][:MAX_BARS]
    if not features:
        return Chart(key, title, empty_text="No drift checks yet.")
    labels = [f"{label_safe(f.name)} ({f.metric})" for f in features]
    # The legend goes right of the bars, as on the other charts: inside, it covered the
    # thresholds of the lowest bars.
    fig, ax = figure_new(
        height=0.9 + 0.28 * len(features),
        left=text_width(labels),
        legend=["drifted", "stable", "threshold"],
    )
    positions = list(range(len(features)))[::-1]
    for y, feature in zip(positions, features, strict=True):
        colour = RED if feature.drifted else BLUE
        (bar,) = ax.barh(y, feature.value, height=0.62, color=colour)
        bar.set_gid("chart-bar-drifted" if feature.drifted else "chart-bar-stable")
    for metric in ("PSI", "JS"):
        ys = [y for y, f in zip(positions, features, strict=True) if f.metric == metric]
        if ys:
            limit = next(f.threshold for f in features if f.metric == metric)
            segments = ax.vlines(
                [limit] * len(ys),
                [y - 0.42 for y in ys],
                [y + 0.42 for y in ys],
                colors=INK,
                linestyles="dashed",
                linewidth=1,
            )
            segments.set_gid(f"chart-threshold-{metric.lower()}")
    ax.set_yticks(positions, labels)
    handles = [
        Patch(color=RED, label="drifted"),
        Patch(color=BLUE, label="stable"),
        Line2D([], [], color=INK, linestyle="--", linewidth=1, label="threshold"),
    ]
    axes_finish(ax, title, "PSI / Jensen-Shannon distance", "", legend=False)
    ax.legend(handles=handles, fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
    ax.set_xlim(left=0)
    return Chart(key, title, svg_of(fig, key, title))


def feature_histogram_chart(check: Any | None, feature: str) -> Chart:
    """(c) Baseline against current shares of one feature, per bin or category, from the
    latest drift check's details."""
    key = "feature-histogram"
    title = f"{label_safe(feature)}: baseline vs current"
    features = {f.name: f for f in drift_features(check.details)} if check is not None else {}
    if feature not in features:
        return Chart(key, title, empty_text="No drift checks yet.")
    labels, baseline, current = feature_histogram(features[feature].result)
    if not labels:
        return Chart(key, title, empty_text="This check kept no histogram of the feature.")
    labels, baseline, current = labels[:MAX_BINS], baseline[:MAX_BINS], current[:MAX_BINS]
    drifted = features[feature].drifted
    labels = [label_safe(label, 14) for label in labels]
    rotate = len(labels) > 6
    # Slanted labels take (roughly) their length times sin(35 degrees) below the axis.
    below = 0.034 * max(len(label) for label in labels) if rotate else 0.0
    fig, ax = figure_new(height=HEIGHT_INCHES + below, bottom=0.5 + below)
    xs = range(len(labels))
    for values, offset, colour, role in (
        (baseline, -0.2, GREY, "baseline"),
        (current, 0.2, RED if drifted else BLUE, "current"),
    ):
        bars = ax.bar([x + offset for x in xs], values, width=0.4, color=colour, label=role)
        for bar in bars.patches:
            bar.set_gid(f"chart-bar-{role}")
    ax.set_xticks(list(xs), labels)
    if rotate:
        ax.tick_params(axis="x", labelrotation=35)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
    xlabel = "Category" if features[feature].kind == "categorical" else "Bin"
    axes_finish(ax, title, xlabel, "Share of rows")
    ax.legend(fontsize=7, frameon=False)
    return Chart(key, title, svg_of(fig, key, title))


def performance_chart(
    checks: Iterable[Any], *, references: Mapping[str, Any] | None = None
) -> Chart:
    """(d) Performance over time: AUC, accuracy and F1 of a classifier, or RMSE and MAE of a
    regressor, each with the version's registered value of that metric dashed."""
    key, title = "performance", "Performance over time"
    checks = oldest_first(checks)
    if not checks:
        return Chart(key, title, empty_text="No performance checks yet.")
    latest = checks[-1].details if isinstance(checks[-1].details, Mapping) else {}
    task = str(latest.get("task", ""))
    names = REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS
    series: dict[str, list[tuple[datetime, float]]] = {}
    for check in checks:
        metrics = check.details.get("metrics") if isinstance(check.details, Mapping) else None
        metrics = metrics if isinstance(metrics, Mapping) else {}
        for name in names:
            value = number(metrics.get(name))
            if value is not None:
                series.setdefault(name, []).append((check.window_end, value))
    if not series:
        return Chart(key, title, empty_text="The performance checks have no metrics yet.")
    shown = [n for n in names if n in series]
    fig, ax = figure_new(legend=[*shown, *(f"{n} at registration" for n in shown)])
    for index, name in enumerate(shown):
        line_add(ax, series[name], index, name.upper() if len(name) <= 4 else name.capitalize())
        reference = number((references or {}).get(name))
        if reference is not None:
            threshold_add(ax, reference, f"{name} at registration", PALETTE[index])
    ylabel = "Error (lower is better)" if task == "regression" else "Score (higher is better)"
    axes_finish(ax, title, "Window end", ylabel, dates=True, legend=True)
    return Chart(key, title, svg_of(fig, key, title))


def kpi_chart(kpi: Any, values: Iterable[Any]) -> Chart:
    """(e) One KPI's values over time, each point coloured by its status, with the warning
    and critical thresholds dashed."""
    key = f"kpi-{kpi.pk}"
    title = f"{label_safe(kpi.name, 40)}" + (f" ({kpi.unit})" if kpi.unit else "")
    points = sorted(values, key=lambda v: v.measured_at)[-MAX_POINTS:]
    if not points:
        return Chart(key, title, empty_text="No values of this KPI yet.")
    fig, ax = figure_new(height=2.3, legend=[label_safe(kpi.name), "critical threshold"])
    line_add(ax, [(p.measured_at, p.value) for p in points], 0, label_safe(kpi.name), marker=False)
    status_dots_add(ax, [(p.measured_at, p.value, p.status) for p in points])
    for limit, name, colour in (
        (kpi.warning_threshold, "warning", AMBER),
        (kpi.critical_threshold, "critical", RED),
    ):
        if number(limit) is not None:
            threshold_add(ax, limit, f"{name} threshold", colour)
    axes_finish(ax, title, "Measured", kpi.unit or "Value", dates=True, legend=True)
    return Chart(key, title, svg_of(fig, key, title))


def health_chart(checks: Iterable[Any], *, alert_below: Sequence[float] = ()) -> Chart:
    """(f) The health score (0-100) over time, each point coloured by its status, with the
    scores below which an alert rule opens an alert dashed."""
    key, title = "health", "Health score over time"
    points = [
        (c.window_end, number(c.score), c.status)
        for c in oldest_first(checks)
        if number(c.score) is not None
    ]
    if not points:
        return Chart(key, title, empty_text="No health checks yet.")
    fig, ax = figure_new(height=2.3, legend=[f"alert below {v:g}" for v in alert_below])
    line_add(ax, [p[:2] for p in points], 0, "health score", marker=False)
    status_dots_add(ax, points)
    for limit in sorted(set(alert_below)):
        threshold_add(ax, limit, f"alert below {limit:g}", RED)
    axes_finish(ax, title, "Window end", "Score", dates=True, legend=bool(alert_below))
    ax.set_ylim(0, 102)
    return Chart(key, title, svg_of(fig, key, title))
