"""The charts of an alert's page: what the alert is about, drawn, instead of its raw details.

- a drift alert: the drifted feature with the largest PSI (or Jensen-Shannon distance), its
  baseline against current histogram, and every feature of that check against its threshold;
- a performance or health alert: that series up to the alert's check;
- a KPI alert: the KPI's values up to the alerting one.

Each is cached like the deployment page's charts, under the ids of what it draws."""

from __future__ import annotations

from typing import Any

from monitoring.charts.checks import (
    Chart,
    chart_cached,
    drift_features_chart,
    feature_histogram_chart,
    health_chart,
    kpi_chart,
    performance_chart,
)
from monitoring.charts.details import drift_features
from monitoring.choices import CheckKind
from monitoring.models import CheckResult, KpiValue

SERIES = 30


def alert_feature(check: Any | None) -> str:
    """The feature a drift alert is about: the most drifting one of its check ('' for none)."""
    if check is None or check.kind not in (CheckKind.DRIFT, CheckKind.PREDICTION_DRIFT):
        return ""
    features = [f for f in drift_features(check.details) if f.drifted]
    return features[0].name if features else ""


def alert_charts(alert) -> list[Chart]:
    """The charts of ``alert``'s page, most telling first (none for a bias alert: its table
    of groups says it better)."""
    check = alert.check_result
    if check is not None:
        return _check_charts(alert, check)
    value = alert.kpi_value
    if value is None:
        return []
    values = list(
        KpiValue.objects.filter(
            kpi=value.kpi, deployment=alert.deployment, measured_at__lte=value.measured_at
        ).order_by("-measured_at")[:SERIES]
    )
    ids = tuple(v.pk for v in values)
    return [chart_cached(("alert-kpi", value.kpi_id, ids), lambda: kpi_chart(value.kpi, values))]


def _check_charts(alert, check: CheckResult) -> list[Chart]:
    stamp = (check.pk, check.created_at)
    if check.kind in (CheckKind.DRIFT, CheckKind.PREDICTION_DRIFT):
        feature = alert_feature(check)
        found = []
        if feature:
            found.append(
                chart_cached(
                    ("alert-histogram", stamp, feature),
                    lambda: feature_histogram_chart(check, feature),
                )
            )
        found.append(chart_cached(("alert-features", stamp), lambda: drift_features_chart(check)))
        return found
    if check.kind not in (CheckKind.PERFORMANCE, CheckKind.HEALTH):
        return []
    series = list(
        CheckResult.objects.filter(
            deployment=alert.deployment, kind=check.kind, window_end__lte=check.window_end
        ).order_by("-window_end", "-id")[:SERIES]
    )
    ids = tuple((r.pk, r.created_at) for r in series)
    if check.kind == CheckKind.PERFORMANCE:
        references = alert.deployment.model_version.metrics or {}
        return [
            chart_cached(
                ("alert-performance", ids, sorted(references.items(), key=str)),
                lambda: performance_chart(series, references=references),
            )
        ]
    below = [alert.rule.health_below] if alert.rule.health_below is not None else []
    return [
        chart_cached(("alert-health", ids, below), lambda: health_chart(series, alert_below=below))
    ]
