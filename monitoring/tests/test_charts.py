"""The server-side charts: each is an SVG with the series, bars and dashed thresholds it should
have, says so in words when there is nothing to draw, stays a few kilobytes however long the
history, and keeps names from the prediction log as text, never as markup or mathtext.

Charts take rows as the pages read them; unsaved model instances are enough (no database)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from monitoring import charts
from monitoring.choices import CheckKind, CheckStatus
from monitoring.models import CheckResult, Kpi, KpiValue

START = datetime(2025, 3, 1, tzinfo=UTC)
SIZE_LIMIT = 16_000


def check(kind: str, i: int, details: dict, score: float | None = None, status="ok"):
    return CheckResult(
        pk=i + 1,
        kind=kind,
        status=status,
        score=score,
        window_start=START + timedelta(hours=i - 1),
        window_end=START + timedelta(hours=i),
        details=details,
    )


def drift(i: int, psi: dict[str, float | None], js: dict[str, float] | None = None):
    features = {
        name: {
            "kind": "numeric",
            "psi": value,
            "drifted": value is not None and value >= 0.2,
            "histogram": {
                "bin_edges": [None, 1.0, 2.0, 3.0, None],
                "reference": [0.25, 0.25, 0.25, 0.25],
                "current": [0.1, 0.2, 0.3, 0.4],
            },
        }
        for name, value in psi.items()
    }
    for name, value in (js or {}).items():
        features[name] = {
            "kind": "categorical",
            "psi": None,
            "js_distance": value,
            "drifted": value >= 0.1,
            "frequencies": {
                "reference": {"basic": 50, "pro": 30, "gold": 20},
                "current": {"basic": 20, "pro": 30, "gold": 50},
            },
        }
    return check(CheckKind.DRIFT, i, {"features": features}, score=0.5)


def marked(svg: str, cls: str, role: str | None = None) -> list[ET.Element]:
    """Elements of ``svg`` carrying ``class=cls`` (and ``data-role=role``, if given)."""
    root = ET.fromstring(svg)
    return [
        el
        for el in root.iter()
        if el.get("class") == cls and (role is None or el.get("data-role") == role)
    ]


def texts(svg: str) -> list[str]:
    return [el.text or "" for el in ET.fromstring(svg).iter() if el.tag.endswith("text")]


def test_the_drift_trend_draws_the_top_features_and_the_threshold():
    checks = [
        drift(i, {f"f{k}": 0.03 * k * (i + 1) for k in range(8)} | {"plan": None}) for i in range(4)
    ]

    chart = charts.drift_trend_chart(checks)

    assert len(marked(chart.svg, "chart-series")) == charts.TOP_FEATURES
    assert len(marked(chart.svg, "chart-threshold")) == 1
    legend = texts(chart.svg)
    assert {"f7", "f6", "f5", "f4", "f3"} <= set(legend) and "f0" not in legend
    assert "Drift per feature over time (PSI)" in legend and "PSI" in legend
    assert "stroke-dasharray" in ET.tostring(marked(chart.svg, "chart-threshold")[0]).decode()
    assert len(marked(charts.drift_trend_chart(checks, top=2).svg, "chart-series")) == 2


def test_the_latest_drift_check_has_a_bar_per_feature_and_drifted_bars_are_red():
    latest = drift(0, {"income": 0.41, "age": 0.05, "debt": 0.22}, js={"plan": 0.3})

    chart = charts.drift_features_chart(latest)

    assert len(marked(chart.svg, "chart-bar")) == 4
    red = marked(chart.svg, "chart-bar", "drifted")
    assert len(red) == 3
    assert all("#dc2626" in ET.tostring(bar).decode() for bar in red)
    # One set of dashed threshold marks per metric: PSI for numeric, JS for categorical.
    assert {el.get("data-role") for el in marked(chart.svg, "chart-threshold")} == {"psi", "js"}
    assert "income (PSI)" in texts(chart.svg) and "plan (JS)" in texts(chart.svg)


def test_the_histogram_compares_baseline_and_current_per_bin_or_category():
    latest = drift(0, {"income": 0.41}, js={"plan": 0.3})

    numeric = charts.feature_histogram_chart(latest, "income")
    categorical = charts.feature_histogram_chart(latest, "plan")

    assert len(marked(numeric.svg, "chart-bar", "baseline")) == 4
    assert len(marked(numeric.svg, "chart-bar", "current")) == 4
    assert {"< 1", "1–2", "≥ 3"} <= set(texts(numeric.svg))
    assert len(marked(categorical.svg, "chart-bar", "current")) == 3
    assert {"basic", "pro", "gold"} <= set(texts(categorical.svg))
    assert charts.feature_histogram_chart(latest, "unknown").svg is None


def test_performance_draws_the_metrics_of_the_task_with_the_registered_values_dashed():
    classification = [
        check(
            CheckKind.PERFORMANCE,
            i,
            {"task": "classification", "metrics": {"auc": 0.9, "accuracy": 0.8, "f1": 0.7}},
        )
        for i in range(5)
    ]
    regression = [
        check(CheckKind.PERFORMANCE, i, {"task": "regression", "metrics": {"rmse": 3, "mae": 2}})
        for i in range(5)
    ]

    chart = charts.performance_chart(classification, references={"auc": 0.91, "log_loss": 0.2})

    assert len(marked(chart.svg, "chart-series")) == 3
    assert len(marked(chart.svg, "chart-threshold")) == 1  # auc at registration
    assert len(marked(charts.performance_chart(regression).svg, "chart-series")) == 2


def test_a_kpi_is_drawn_with_its_warning_and_critical_thresholds():
    kpi = Kpi(pk=7, name="Default rate", unit="%", warning_threshold=4, critical_threshold=6)
    values = [
        KpiValue(measured_at=START + timedelta(days=i), value=i, status=CheckStatus.OK)
        for i in range(8)
    ]

    chart = charts.kpi_chart(kpi, values)

    assert len(marked(chart.svg, "chart-series")) == 1
    assert len(marked(chart.svg, "chart-threshold")) == 2
    assert len(marked(chart.svg, "chart-points")) == 1
    assert "Default rate (%)" in texts(chart.svg)


def test_the_health_score_is_drawn_with_the_alert_thresholds():
    checks = [
        check(CheckKind.HEALTH, i, {}, score=90 - 5 * i, status=CheckStatus.WARNING)
        for i in range(6)
    ]

    chart = charts.health_chart(checks, alert_below=[60, 40])

    assert len(marked(chart.svg, "chart-series")) == 1
    assert len(marked(chart.svg, "chart-threshold")) == 2
    assert "alert below 60" in texts(chart.svg)


@pytest.mark.parametrize(
    ("chart", "says"),
    [
        (lambda: charts.drift_trend_chart([]), "No drift checks yet."),
        (lambda: charts.drift_features_chart(None), "No drift checks yet."),
        (lambda: charts.feature_histogram_chart(None, "income"), "No drift checks yet."),
        (lambda: charts.performance_chart([]), "No performance checks yet."),
        (lambda: charts.health_chart([]), "No health checks yet."),
        (lambda: charts.kpi_chart(Kpi(pk=1, name="k"), []), "No values of this KPI yet."),
        (lambda: charts.drift_trend_chart([check(CheckKind.DRIFT, 0, {})]), "no PSI values"),
    ],
)
def test_with_nothing_to_draw_it_says_so_instead_of_drawing_empty_axes(chart, says):
    drawn = chart()

    assert drawn.svg is None
    assert says in drawn.empty_text


def test_a_long_history_of_many_features_stays_a_few_kilobytes():
    checks = [
        drift(i, {f"feature_{k}": 0.01 * k + 0.001 * i for k in range(40)}) for i in range(500)
    ]

    trend = charts.drift_trend_chart(checks)
    bars = charts.drift_features_chart(checks[-1])

    assert len(trend.svg) < SIZE_LIMIT and len(bars.svg) < SIZE_LIMIT
    assert len(marked(bars.svg, "chart-bar")) == charts.MAX_BARS
    assert "<?xml" not in trend.svg and "<metadata" not in trend.svg and "<style" not in trend.svg


def test_names_from_the_prediction_log_stay_text():
    """Feature names come from whoever logs predictions: markup is escaped by matplotlib's SVG
    writer, and a '$' does not switch on mathtext (which would fail on unbalanced input)."""
    latest = drift(0, {"<script>alert(1)</script>": 0.5, "$cost": 0.3, "_id": 0.25})

    chart = charts.drift_features_chart(latest)

    assert "<script" not in chart.svg
    assert "&lt;script&gt;" in chart.svg
    assert "$cost (PSI)" in texts(chart.svg)
    assert any(t.strip() == "_id (PSI)" for t in texts(chart.svg))


def test_the_svg_sizes_itself_to_the_page_and_names_itself():
    chart = charts.health_chart([check(CheckKind.HEALTH, 0, {}, score=80)])

    root = ET.fromstring(chart.svg)
    assert root.get("width") is None and root.get("viewBox")
    assert root.get("role") == "img" and root.get("aria-label") == "Health score over time"
    assert root.get("data-chart") == "health"
    assert not [el for el in root.iter() if (el.get("id") or "").startswith(("figure_", "axes_"))]
