"""Checks of a deployment over a window of its prediction log: data drift, prediction drift,
performance, bias, check-metric KPIs and the health score that combines them.

``checks_run`` is what the Celery task calls; it is idempotent: a result is unique per
(deployment, kind, window), so a retried or duplicated task finds the results of its window
instead of adding more, and alerts are evaluated only for results it created itself. A result
and the evaluation of its alert rules commit together: a worker killed between two checks
leaves no stored result whose alert was never evaluated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.access import may
from accounts.choices import Verb
from accounts.models import User
from core.errors import Conflict
from core.outbox import task_request
from monitoring import stats
from monitoring.choices import CheckKind, CheckStatus, CheckTrigger, KpiSource
from monitoring.models import BaselineProfile, CheckResult, Deployment, Kpi
from monitoring.permissions import require_any
from monitoring.schema import Column, schema_columns
from monitoring.services.alerts.evaluation import alerts_evaluate_check
from monitoring.stats.status import status_worst
from monitoring.window import window_columns, window_labelled

MIN_LABELLED = 30
# How far a production metric may fall below the version's own evaluation before it warns.
PERFORMANCE_DROP = {"warning": 0.05, "critical": 0.10}
ERROR_RISE = {"warning": 0.20, "critical": 0.50}  # relative rise of RMSE / MAE
HEALTH_WEIGHTS = {
    CheckKind.PERFORMANCE: 3.0,
    CheckKind.DRIFT: 2.0,
    CheckKind.PREDICTION_DRIFT: 2.0,
    CheckKind.BIAS: 2.0,
}
KPI_WEIGHT = 1.0


@dataclass(frozen=True)
class Outcome:
    status: str
    summary: str
    details: dict[str, Any]
    score: float | None = None
    row_count: int = 0


# Who may queue a deployment's checks: its managers, contributors and validators.
CHECK_REQUEST_VERBS = (Verb.DEPLOY, Verb.CHANGE, Verb.VALIDATE)


def can_request_checks(user: User, deployment: Deployment) -> bool:
    """Whether :func:`checks_request` would queue ``deployment``'s checks for ``user`` (the
    page offers "Run checks now" only then)."""
    return deployment.is_active and any(may(user, verb, deployment) for verb in CHECK_REQUEST_VERBS)


def checks_request(*, actor: User, deployment: Deployment) -> datetime:
    """Queue every check of ``deployment`` over its window ending now (managers, contributors,
    validators, administrators). Returns the window's end."""
    require_any(actor, CHECK_REQUEST_VERBS, deployment)
    if not deployment.is_active:
        raise Conflict(f"Deployment '{deployment.name}' is retired: it is no longer checked.")
    end = timezone.now().replace(microsecond=0)
    start = end - timedelta(hours=deployment.check_window_hours)
    task_request(
        "monitoring.run_checks",
        deployment.pk,
        start.isoformat(),
        end.isoformat(),
        CheckTrigger.ON_DEMAND,
        actor.pk,
    )
    return end


def checks_schedule(now: datetime | None = None) -> list[tuple[int, datetime, datetime]]:
    """The windows the scheduler asks for: per active deployment, its window ending at the
    current whole hour."""
    from monitoring.choices import DeploymentStatus

    end = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    return [
        (pk, end - timedelta(hours=hours), end)
        for pk, hours in Deployment.objects.filter(status=DeploymentStatus.ACTIVE).values_list(
            "pk", "check_window_hours"
        )
    ]


def checks_run(
    *,
    deployment: Deployment,
    window_start: datetime,
    window_end: datetime,
    trigger: str = CheckTrigger.SCHEDULE,
    requested_by: User | None = None,
) -> list[CheckResult]:
    """Run every check of ``deployment`` over [window_start, window_end) and store the results;
    then KPIs from check metrics, the health score, and the alerts of new results."""
    version = deployment.model_version
    baseline = version.baselines.order_by("-created_at", "-id").first()
    common = {
        "deployment": deployment,
        "window_start": window_start,
        "window_end": window_end,
        "trigger": trigger,
        "requested_by": requested_by,
    }
    computed = {
        CheckKind.DRIFT: lambda: drift_outcome(deployment, baseline, window_start, window_end),
        CheckKind.PREDICTION_DRIFT: lambda: drift_outcome(
            deployment, baseline, window_start, window_end, outputs=True
        ),
        CheckKind.PERFORMANCE: lambda: performance_outcome(deployment, window_start, window_end),
        CheckKind.BIAS: lambda: bias_outcome(deployment, window_start, window_end),
    }
    results = []
    for kind, compute in computed.items():
        uses_baseline = kind in (CheckKind.DRIFT, CheckKind.PREDICTION_DRIFT)
        results.append(
            _result_store(kind, compute, baseline=baseline if uses_baseline else None, **common)
        )
    _kpis_from_checks(deployment, results, window_end)
    health = _result_store(
        CheckKind.HEALTH, lambda: health_outcome(deployment, results), baseline=None, **common
    )
    results.append(health)
    return results


def _result_store(kind, compute, *, baseline, **common) -> CheckResult:
    """The window's result of ``kind``: the stored one, or a new one computed, stored and
    given to the alert rules in one transaction (its deliveries are queued on commit)."""
    key = {k: common[k] for k in ("deployment", "window_start", "window_end")}
    existing = CheckResult.objects.filter(kind=kind, **key).first()
    if existing is not None:
        return existing
    outcome = compute()
    with transaction.atomic():
        try:
            with transaction.atomic():
                result = CheckResult.objects.create(
                    kind=kind,
                    status=outcome.status,
                    score=outcome.score,
                    summary=outcome.summary[:500],
                    details=outcome.details,
                    row_count=outcome.row_count,
                    baseline=baseline,
                    **common,
                )
        except IntegrityError:  # a concurrent run of the same window stored it first
            return CheckResult.objects.get(kind=kind, **key)
        alerts_evaluate_check(result)
    return result


def _unknown(summary: str, row_count: int = 0) -> Outcome:
    return Outcome(CheckStatus.UNKNOWN, summary, {}, None, row_count)


def _profile_columns(profile: dict, schema: dict) -> list[Column]:
    declared = {c.name: c for c in schema_columns(schema) or []}
    columns = []
    for name, feature in (profile.get("features") or {}).items():
        column = declared.get(name) or Column(name=name, type="")
        kind = "float64" if feature.get("kind") == "numeric" else "string"
        if column.is_numeric != (feature.get("kind") == "numeric"):
            column = Column(name=name, type=kind)
        columns.append(column)
    return columns


def drift_outcome(
    deployment: Deployment,
    baseline: BaselineProfile | None,
    start: datetime,
    end: datetime,
    *,
    outputs: bool = False,
) -> Outcome:
    """Data drift (inputs) or prediction drift (outputs) against the version's baseline."""
    version = deployment.model_version
    if baseline is None:
        return _unknown(f"No baseline profile for {version}: drift cannot be judged.")
    profile = baseline.outputs if outputs else baseline.inputs
    schema = version.output_schema if outputs else version.input_schema
    columns = _profile_columns(profile, schema)
    if not columns:
        return _unknown("The baseline profiles no outputs." if outputs else "No features.")
    window = window_columns(
        deployment,
        start=start,
        end=end,
        inputs=[] if outputs else columns,
        outputs=columns if outputs else [],
    )
    if window.row_count == 0:
        return _unknown("No predictions in the window.")
    report = stats.drift_report(profile, window.outputs if outputs else window.inputs)
    drifted = report.get("drifted_features", [])
    what = "outputs" if outputs else "features"
    if drifted:
        worst = ", ".join(drifted[:3]) + ("…" if len(drifted) > 3 else "")
        summary = f"{len(drifted)} of {len(report['features'])} {what} drifted: {worst}."
    else:
        summary = f"No drift in {len(report['features'])} {what} over {window.row_count} rows."
    return Outcome(report["status"], summary, report, report.get("drifted_share"), window.row_count)


def _task_columns(deployment: Deployment) -> tuple[Column | None, Column | None]:
    """The predicted column (the output schema's first scalar) and, for a binary classifier,
    the column holding the positive class's score (a two-wide probabilities vector)."""
    columns = schema_columns(deployment.model_version.output_schema) or []
    predicted = next((c for c in columns if c.width is None), None)
    score = next((c for c in columns if c.width == 2), None)
    return predicted, score


def _label(value: Any, column: Column) -> Any:
    if column.labels and isinstance(value, int) and 0 <= value < len(column.labels):
        return column.labels[value]
    return value


def performance_outcome(deployment: Deployment, start: datetime, end: datetime) -> Outcome:
    predicted, score_column = _task_columns(deployment)
    if predicted is None:
        return _unknown("The version's output schema names no predicted column.")
    rows = window_labelled(deployment, start=start, end=end, labelled_only=True)
    n = len(rows.truths)
    if n < MIN_LABELLED:
        return _unknown(f"{n} predictions with ground truth; at least {MIN_LABELLED} needed.", n)
    y_pred = [_label(o.get(predicted.name), predicted) for o in rows.outputs]
    if predicted.is_numeric:
        metrics = stats.regression_performance(
            np.array(rows.truths, dtype=float), np.array(y_pred, dtype=float)
        )
        return _judge_regression(deployment, metrics, n)
    y_true = [_label(t, predicted) for t in rows.truths]
    positive = predicted.labels[1] if len(predicted.labels) == 2 else None
    scores = None
    if score_column is not None and positive is not None:
        scores = [(o.get(score_column.name) or [None, None])[1] for o in rows.outputs]
        scores = np.array([np.nan if s is None else s for s in scores], dtype=float)
    metrics = stats.classification_performance(
        np.array(y_true, dtype=object), np.array(y_pred, dtype=object), scores, positive
    )
    return _judge_classification(deployment, metrics, n)


def _judge_classification(deployment: Deployment, metrics: dict, n: int) -> Outcome:
    reference = deployment.model_version.metrics or {}
    status, notes = CheckStatus.OK, []
    for name in ("auc", "accuracy", "f1"):
        now, then = metrics.get(name), reference.get(name)
        if not isinstance(now, float | int) or not isinstance(then, float | int):
            continue
        drop = then - now
        level = (
            CheckStatus.CRITICAL
            if drop > PERFORMANCE_DROP["critical"]
            else CheckStatus.WARNING
            if drop > PERFORMANCE_DROP["warning"]
            else CheckStatus.OK
        )
        if level != CheckStatus.OK:
            notes.append(f"{name} {now:.3g} vs {then:.3g} at validation")
        status = status_worst((status, level))
    headline = metrics.get("auc") if metrics.get("auc") is not None else metrics.get("accuracy")
    summary = (
        f"{'; '.join(notes)}."
        if notes
        else f"On {n} labelled predictions: "
        + ", ".join(
            f"{k} {metrics[k]:.3g}"
            for k in ("accuracy", "f1", "auc")
            if isinstance(metrics.get(k), float)
        )
        + "."
    )
    details = {
        "task": "classification",
        "metrics": metrics,
        "labelled": n,
        "reference": {k: reference.get(k) for k in ("auc", "accuracy", "f1") if k in reference},
    }
    return Outcome(status, summary, details, headline, n)


def _judge_regression(deployment: Deployment, metrics: dict, n: int) -> Outcome:
    reference = deployment.model_version.metrics or {}
    status, notes = CheckStatus.OK, []
    for name in ("rmse", "mae"):
        now, then = metrics.get(name), reference.get(name)
        if not isinstance(now, float | int) or not isinstance(then, float | int) or then <= 0:
            continue
        rise = now / then - 1
        level = (
            CheckStatus.CRITICAL
            if rise > ERROR_RISE["critical"]
            else CheckStatus.WARNING
            if rise > ERROR_RISE["warning"]
            else CheckStatus.OK
        )
        if level != CheckStatus.OK:
            notes.append(f"{name} {now:.3g} vs {then:.3g} at validation")
        status = status_worst((status, level))
    summary = (
        f"{'; '.join(notes)}."
        if notes
        else f"On {n} labelled predictions: rmse {metrics['rmse']:.3g}, mae {metrics['mae']:.3g}."
    )
    details = {
        "task": "regression",
        "metrics": metrics,
        "labelled": n,
        "reference": {k: reference.get(k) for k in ("rmse", "mae") if k in reference},
    }
    return Outcome(status, summary, details, metrics.get("rmse"), n)


def bias_outcome(deployment: Deployment, start: datetime, end: datetime) -> Outcome:
    predicted, _ = _task_columns(deployment)
    if predicted is None or predicted.is_numeric or len(predicted.labels) not in (0, 2):
        return _unknown("Bias is checked for binary classifiers.")
    rows = window_labelled(deployment, start=start, end=end, labelled_only=False)
    attributes = sorted({k for p in rows.protected if isinstance(p, dict) for k in p})
    if not attributes:
        return _unknown("No protected attributes were logged in the window.", len(rows.outputs))
    positive = predicted.labels[1] if predicted.labels else 1
    y_pred = np.array(
        [_label(o.get(predicted.name), predicted) == positive for o in rows.outputs], dtype=bool
    )
    truth = [None if t is None else _label(t, predicted) == positive for t in rows.truths]
    labelled = np.array([t is not None for t in truth], dtype=bool)
    report, status = {}, CheckStatus.UNKNOWN
    for attribute in attributes:
        groups = np.array([(p or {}).get(attribute) for p in rows.protected], dtype=object)
        entry = stats.bias_report(groups, y_pred)
        if labelled.sum() >= MIN_LABELLED:
            with_truth = stats.bias_report(
                groups[labelled], y_pred[labelled], np.array(truth, dtype=object)[labelled]
            )
            entry["equal_opportunity_difference"] = with_truth.get("equal_opportunity_difference")
            for key, group in with_truth.get("groups", {}).items():
                if key in entry["groups"]:
                    entry["groups"][key]["true_positive_rate"] = group.get("true_positive_rate")
            entry["reasons"] = entry.get("reasons", []) + [
                r for r in with_truth.get("reasons", []) if "opportunity" in r
            ]
            if entry["reasons"]:
                entry["flagged"], entry["status"] = True, CheckStatus.WARNING
        report[attribute] = entry
        status = status_worst((status, entry.get("status", CheckStatus.UNKNOWN)))
    ratios = [e.get("disparate_impact_ratio") for e in report.values()]
    ratios = [r for r in ratios if isinstance(r, float | int)]
    flagged = [a for a, e in report.items() if e.get("flagged")]
    summary = (
        f"Flagged on {', '.join(flagged)}: " + "; ".join(report[flagged[0]]["reasons"][:2]) + "."
        if flagged
        else f"No bias flagged on {', '.join(attributes)}."
    )
    return Outcome(
        status, summary, {"attributes": report}, min(ratios) if ratios else None, len(y_pred)
    )


def _kpis_from_checks(deployment: Deployment, results: list[CheckResult], end: datetime) -> None:
    from django.db.models import Q

    from monitoring.services.kpis import kpi_value_record

    by_kind = {r.kind: r for r in results}
    kpis = Kpi.objects.filter(
        Q(deployment=deployment)
        | Q(registered_model_id=deployment.model_version.registered_model_id),
        source=KpiSource.CHECK_METRIC,
    )
    for kpi in kpis:
        kind, _, metric = kpi.metric.partition(".")
        result = by_kind.get(kind)
        if result is None or result.status == CheckStatus.UNKNOWN:
            continue
        value = result.score if metric == "score" else _metric_of(result.details, metric)
        if isinstance(value, int | float) and not isinstance(value, bool):
            kpi_value_record(
                actor=None, kpi=kpi, deployment=deployment, value=value, measured_at=end
            )


def _metric_of(details: dict, metric: str) -> Any:
    if metric in (details.get("metrics") or {}):
        return details["metrics"][metric]
    return details.get(metric)


def health_outcome(deployment: Deployment, results: list[CheckResult]) -> Outcome:
    """Combine the latest result of each kind (these, or earlier ones of a kind that was unknown
    now) and the latest value of each KPI into one score with its reasons. A failing check caps
    the score in its own band (``monitoring.stats.health``): the status is the score's band,
    and the summary names the check that capped it."""
    components = []
    for result in results:
        latest = result
        if result.status == CheckStatus.UNKNOWN:
            latest = (
                CheckResult.objects.filter(deployment=deployment, kind=result.kind)
                .exclude(status=CheckStatus.UNKNOWN)
                .order_by("-window_end")
                .first()
            ) or result
        components.append(
            stats.HealthComponent(
                name=latest.get_kind_display(),
                status=latest.status,
                weight=HEALTH_WEIGHTS.get(latest.kind, 1.0),
                reason=latest.summary,
            )
        )
    from django.db.models import Q

    kpis = Kpi.objects.filter(
        Q(deployment=deployment)
        | Q(registered_model_id=deployment.model_version.registered_model_id)
    )
    for kpi in kpis:
        value = kpi.values.filter(deployment=deployment).order_by("-measured_at").first()
        if value is not None:
            components.append(
                stats.HealthComponent(
                    name=f"KPI {kpi.name}",
                    status=value.status,
                    weight=KPI_WEIGHT,
                    reason=f"{kpi.name} = {value.value:g}{kpi.unit} ({value.get_status_display()})",
                )
            )
    health = stats.health_score(components)
    score = health.get("score")
    if score is None:
        return Outcome(CheckStatus.UNKNOWN, "Nothing known yet.", health, None)
    # The score's band is the status: a failing check caps the score inside its own band
    # (monitoring.stats.health), so a drifting feature cannot hide behind a green mean.
    status = health["status"]
    reasons = health.get("reasons") or []
    capped = f" (capped: {health['cap']['by']} is {health['cap']['band']})" if health["cap"] else ""
    summary = f"Health {score:.0f}/100{capped}" + (f": {reasons[0]}" if reasons else ".")
    return Outcome(status, summary, health, score)
