"""Chart legends stay inside the picture: the right margin is made for the longest label (a
28-character feature name, "accuracy at registration"), where a fixed 1.55 inches cut them."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from monitoring.charts import checks, drawing

T0 = datetime(2026, 1, 1)


@pytest.fixture
def legends(monkeypatch):
    """The right edge of each drawn chart's legend and the figure's width, in pixels."""
    found = {}
    draw = checks.svg_of

    def measure(fig, key, title):
        renderer = FigureCanvasAgg(fig).get_renderer()
        legend = fig.axes[0].get_legend()
        found[key] = (legend.get_window_extent(renderer).x1, fig.get_figwidth() * fig.dpi)
        return draw(fig, key, title)

    monkeypatch.setattr(checks, "svg_of", measure)
    monkeypatch.setattr(checks, "chart_cached", lambda parts, build: build())
    return found


def drift(i: int) -> SimpleNamespace:
    features = {"mean_concave_points_worst_area": 0.1 * i, "mean_radius": 0.05 * i}
    return SimpleNamespace(
        pk=i,
        window_end=T0 + timedelta(days=i),
        details={
            "features": {n: {"psi": v, "drifted": v >= 0.2} for n, v in features.items()},
            "thresholds": {"psi": 0.2},
        },
    )


def performance(i: int) -> SimpleNamespace:
    metrics = {"auc": 0.9, "accuracy": 0.8, "f1": 0.7}
    return SimpleNamespace(
        pk=i,
        window_end=T0 + timedelta(days=i),
        details={"task": "classification", "metrics": metrics},
    )


def test_long_legend_labels_are_not_cut_off(legends):
    checks.drift_trend_chart([drift(i) for i in range(5)])
    checks.performance_chart(
        [performance(i) for i in range(5)], references={"auc": 0.91, "accuracy": 0.85, "f1": 0.7}
    )
    kpi = SimpleNamespace(
        pk=1,
        name="Share of applications declined",
        unit="%",
        warning_threshold=4,
        critical_threshold=6,
    )
    values = [
        SimpleNamespace(measured_at=T0 + timedelta(days=i), value=3 + i, status="ok")
        for i in range(5)
    ]
    checks.kpi_chart(kpi, values)
    assert set(legends) == {"drift-trend", "performance", "kpi-1"}
    for key, (right, width) in legends.items():
        # Room to spare: the page's font is wider than the one matplotlib measures with.
        assert right <= width - 20, (key, right, width)


def test_short_legends_keep_the_usual_plot_width():
    assert drawing.legend_width(["AUC", "F1", "alert below 60"]) == drawing.LEGEND_MIN_INCHES
    assert drawing.legend_width(["mean_concave_points_worst_ar"]) > drawing.LEGEND_MIN_INCHES
