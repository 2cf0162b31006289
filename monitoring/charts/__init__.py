"""Charts of a deployment's checks, drawn on the server with matplotlib as small SVG pictures
that the pages embed inline: no JavaScript, nothing fetched from elsewhere.

Each function takes check results (or KPI values) as the pages read them and returns a
:class:`Chart`: the SVG, or, when there is nothing to draw, a sentence saying so instead of an
empty pair of axes. Every chart has a title and axis labels, draws its thresholds as dashed
lines and is a few kilobytes: series are cut to the newest ``MAX_POINTS`` results and bars to
the largest ``MAX_BARS``, the SVG is stripped of metadata and rounded to one decimal, and text
stays text (``svg.fonttype: none``) in the page's own font.

- ``checks``: the six charts and their cache;
- ``details``: reading drift check details (also used by the pages' tables);
- ``drawing``: matplotlib figures in the pages' style, and the SVG clean-up (thread safety is
  discussed there).

Markers in the SVG: every series, bar, threshold and set of status dots carries
``class="chart-series"``, ``"chart-bar"``, ``"chart-threshold"`` or ``"chart-points"`` (and
some a ``data-role``) so that tests and styles can find them.
"""

from monitoring.charts.checks import (
    MAX_BARS,
    TOP_FEATURES,
    Chart,
    chart_cached,
    drift_features_chart,
    drift_trend_chart,
    feature_histogram_chart,
    health_chart,
    kpi_chart,
    performance_chart,
)
from monitoring.charts.details import (
    FeatureDrift,
    drift_features,
    drift_thresholds,
    feature_histogram,
)
from monitoring.charts.drawing import MAX_POINTS

__all__ = [
    "MAX_BARS",
    "MAX_POINTS",
    "TOP_FEATURES",
    "Chart",
    "FeatureDrift",
    "chart_cached",
    "drift_features",
    "drift_features_chart",
    "drift_thresholds",
    "drift_trend_chart",
    "feature_histogram",
    "feature_histogram_chart",
    "health_chart",
    "kpi_chart",
    "performance_chart",
]
