"""Monitoring pages: the dashboard of deployments and alerts, a deployment's page with its
charts, checks, predictions and alerts, the prediction lookup ("which model said this, and who
approved it") and an alert's page. Views read through ``monitoring.selectors`` and call
one service per form; they never write rows themselves.

A ``StewardError`` raised while reading (an unknown or invisible name, a bad parameter) is an
error page with its status (``core.pages``). A refused form (acknowledge, resolve, run checks)
shows its page again with the message beside the form and the error's status; never a 500."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from core.errors import InvalidInput, StewardError
from core.filters import page_filterset
from core.pages import form_view, page_view
from governance.choices import Action
from monitoring import charts, selectors
from monitoring.charts.alert import alert_charts
from monitoring.choices import CheckKind
from monitoring.filters import DeploymentFilter
from monitoring.models import Alert, Deployment, Prediction
from monitoring.services import alerts as alert_services
from monitoring.services import checks as check_services
from monitoring.services import retention as retention_services
from registry.views import structured

DEPLOYMENTS_PER_PAGE = 50
JSON_SHOWN = 120


def _may(user, deployment: Deployment) -> dict[str, bool]:
    """Which of the monitoring forms the user may use on ``deployment``: what the services
    (``monitoring.services.checks`` and ``.alerts``) would accept, asked of them; the pages
    only hide the buttons a service would refuse, and the services still check."""
    return {
        "run_checks": check_services.can_request_checks(user, deployment),
        "acknowledge": alert_services.can_acknowledge_alerts(user, deployment),
        "resolve": alert_services.can_resolve_alerts(user, deployment),
    }


# --- Dashboard ------------------------------------------------------------------------------


@page_view
def dashboard(request: HttpRequest) -> HttpResponse:
    filters = page_filterset(DeploymentFilter, request, selectors.deployment_list(request.user))
    deployments = selectors.deployment_dashboard(filters)
    page = Paginator(deployments, DEPLOYMENTS_PER_PAGE).get_page(request.GET.get("page"))
    alerts = selectors.unresolved_alerts(request.user)
    return render(
        request,
        "monitoring/dashboard.html",
        {
            "page": page,
            "rows": selectors.deployment_rows(list(page.object_list)),
            "filters": filters,
            "alerts": list(alerts[: selectors.DASHBOARD_ALERTS]),
            "query_string": _query_without_page(request),
        },
    )


# --- One deployment -------------------------------------------------------------------------


@page_view
def deployment_detail(request: HttpRequest, name: str) -> HttpResponse:
    deployment = selectors.deployment_get(request.user, name)
    return deployment_page(request, deployment)


def deployment_page(
    request: HttpRequest,
    deployment: Deployment,
    *,
    status: int = 200,
    form_state: dict[str, Any] | None = None,
) -> HttpResponse:
    """The deployment's page; a refused form passes its ``form_state`` (what was posted and
    the error) and the error's ``status``."""
    series = {kind: selectors.check_series(deployment, kind) for kind in CheckKind.values}
    latest = {kind: results[0] for kind, results in series.items() if results}
    drift = latest.get(CheckKind.DRIFT)
    features = charts.drift_features(drift.details) if drift else []
    feature = _chosen_feature(request.GET.get("feature", ""), features)
    return render(
        request,
        "monitoring/deployment_detail.html",
        {
            "deployment": deployment,
            "version": deployment.model_version,
            "successors": selectors.deployment_successors(request.user, deployment),
            "health": latest.get(CheckKind.HEALTH),
            "latest_checks": [latest[kind] for kind in CheckKind.values if kind in latest],
            "drift": drift,
            "drift_features": features,
            "feature": feature,
            "bias": _bias_rows(latest.get(CheckKind.BIAS)),
            **_charts(deployment, series, feature),
            "predictions": _prediction_rows(request, deployment),
            "alerts": selectors.deployment_alerts(deployment),
            "retention": _retention(deployment),
            "may": {
                **_may(request.user, deployment),
                "retention": retention_services.can_set_retention(request.user),
            },
            "form_state": form_state or {},
        },
        status=status,
    )


def _retention(deployment: Deployment) -> dict[str, int | None]:
    """The deployment's own retention days, the global days that apply without them, the days
    that apply (None: kept forever) and the most the form takes."""
    return {
        "days": deployment.retention_days,
        "global_days": retention_services.global_retention_days(),
        "effective_days": retention_services.retention_days(deployment),
        "max_days": retention_services.MAX_RETENTION_DAYS,
    }


def _charts(deployment: Deployment, series: dict[str, list], feature: str) -> dict[str, Any]:
    """Charts (a) to (f), each named in the cache by the ids of what it draws."""
    drift_series = series[CheckKind.DRIFT]
    drift = drift_series[0] if drift_series else None
    performance, health = series[CheckKind.PERFORMANCE], series[CheckKind.HEALTH]
    references = deployment.model_version.metrics
    alert_below = selectors.health_alert_thresholds(deployment)

    def ids(results) -> tuple:
        # With the time each row was stored: ids alone repeat after a rolled-back transaction.
        return tuple((r.pk, r.created_at) for r in results)

    def cached(name: str, *parts: Any, build) -> charts.Chart:
        return charts.chart_cached((name, deployment.pk, *parts), build)

    return {
        "drift_charts": [
            cached(
                "trend", ids(drift_series), build=lambda: charts.drift_trend_chart(drift_series)
            ),
            cached(
                "features", ids(drift_series[:1]), build=lambda: charts.drift_features_chart(drift)
            ),
        ],
        "histogram_chart": cached(
            "histogram",
            ids(drift_series[:1]),
            feature,
            build=lambda: charts.feature_histogram_chart(drift, feature),
        )
        if feature
        else None,
        "performance_chart": cached(
            "performance",
            ids(performance),
            sorted((references or {}).items(), key=str),
            build=lambda: charts.performance_chart(performance, references=references),
        ),
        "health_chart": cached(
            "health",
            ids(health),
            alert_below,
            build=lambda: charts.health_chart(health, alert_below=alert_below),
        ),
        "kpi_charts": [
            cached(
                "kpi",
                kpi.pk,
                kpi.name,
                kpi.unit,
                kpi.warning_threshold,
                kpi.critical_threshold,
                ids(values),
                build=lambda kpi=kpi, values=values: charts.kpi_chart(kpi, values),
            )
            for kpi, values in selectors.deployment_kpis(deployment)
        ],
    }


def _chosen_feature(asked: str, features: list[charts.FeatureDrift]) -> str:
    """The feature whose histogram is shown: the one asked for if the check has it, else the
    most drifting one."""
    names = [f.name for f in features]
    if asked in names:
        return asked
    return names[0] if names else ""


def _bias_rows(check) -> list[dict[str, Any]]:
    attributes = (check.details or {}).get("attributes") if check else None
    if not isinstance(attributes, dict):
        return []
    return [
        {"attribute": name, **result}
        for name, result in sorted(attributes.items())
        if isinstance(result, dict)
    ]


@dataclass(frozen=True)
class PredictionRow:
    prediction: Prediction
    outputs: str
    ground_truth: str


def _short_json(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= JSON_SHOWN else text[: JSON_SHOWN - 1] + "…"


def _prediction_rows(request: HttpRequest, deployment: Deployment) -> dict[str, Any]:
    page = selectors.prediction_page(deployment, request.GET.get("page"))
    rows = [
        PredictionRow(
            p, _short_json(p.outputs), "" if p.ground_truth is None else _short_json(p.ground_truth)
        )
        for p in page.predictions
    ]
    return {"page": page, "rows": rows}


@form_view
def deployment_checks_run(request: HttpRequest, name: str) -> HttpResponse:
    """Queue every check of the deployment now; the results appear when the worker is done."""
    deployment = selectors.deployment_get(request.user, name)
    try:
        check_services.checks_request(actor=request.user, deployment=deployment)
    except StewardError as exc:
        state = {"checks": {"error": exc}}
        return deployment_page(request, deployment, status=exc.status_code, form_state=state)
    messages.success(request, "Checks queued: their results appear here when they are done.")
    return redirect(reverse("monitoring:deployment-detail", args=[deployment.name]))


# --- Prediction lookup ----------------------------------------------------------------------


@dataclass(frozen=True)
class LookupResult:
    """One visible prediction with that request id, its version and the version's record."""

    prediction: Prediction
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    ground_truth: str
    decisions: list
    approvals: list


@page_view
def prediction_lookup(request: HttpRequest) -> HttpResponse:
    """Which model said this, and who approved it. An unknown id and an id the user may not
    see get the same answer."""
    error, request_id, results = None, "", []
    try:
        request_id = selectors.request_id_clean(request.GET.get("request_id", ""))
    except InvalidInput as exc:
        error = exc
    if request_id:
        results = [_lookup_result(p) for p in selectors.prediction_lookup(request.user, request_id)]
    return render(
        request,
        "monitoring/prediction_lookup.html",
        {"request_id": request_id, "results": results, "error": error},
        status=error.status_code if error else 200,
    )


def _lookup_result(prediction: Prediction) -> LookupResult:
    decisions = list(prediction.deployment.model_version.decisions.all())
    return LookupResult(
        prediction=prediction,
        inputs=structured(prediction.inputs, "Input"),
        outputs=structured(prediction.outputs, "Output"),
        ground_truth=""
        if prediction.ground_truth is None
        else json.dumps(prediction.ground_truth, sort_keys=True, default=str),
        decisions=decisions,
        approvals=[d for d in decisions if d.action == Action.APPROVE],
    )


# --- Alerts ---------------------------------------------------------------------------------


@page_view
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return alert_page(request, selectors.alert_get(request.user, pk))


def alert_page(
    request: HttpRequest,
    alert: Alert,
    *,
    status: int = 200,
    form_state: dict[str, Any] | None = None,
) -> HttpResponse:
    return render(
        request,
        "monitoring/alert_detail.html",
        {
            "alert": alert,
            "deployment": alert.deployment,
            "details": structured(alert.details, "Detail"),
            "charts": alert_charts(alert),
            "history": selectors.alert_history(alert),
            "deliveries": selectors.alert_deliveries(alert),
            "may": _may(request.user, alert.deployment),
            "form_state": form_state or {},
        },
        status=status,
    )


ALERT_ACTIONS = {
    "acknowledge": (alert_services.alert_acknowledge, "acknowledged"),
    "resolve": (alert_services.alert_resolve, "resolved"),
}


@form_view
def alert_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    return _alert_act(request, pk, "acknowledge")


@form_view
def alert_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    return _alert_act(request, pk, "resolve")


def _alert_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Acknowledge or resolve an alert with a note; back to the page the form was on."""
    alert = selectors.alert_get(request.user, pk)
    note = request.POST.get("note", "")
    from_alert_page = request.POST.get("return_to") == "alert"
    service, done = ALERT_ACTIONS[action]
    try:
        service(actor=request.user, alert=alert, note=note)
    except StewardError as exc:
        state = {"alert": {"id": alert.pk, "action": action, "note": note, "error": exc}}
        if from_alert_page:
            return alert_page(request, alert, status=exc.status_code, form_state=state)
        deployment = selectors.deployment_get(request.user, alert.deployment.name)
        return deployment_page(request, deployment, status=exc.status_code, form_state=state)
    messages.success(request, f"Alert “{alert.title}” {done}.")
    if from_alert_page:
        return redirect(reverse("monitoring:alert-detail", args=[alert.pk]))
    return redirect(
        reverse("monitoring:deployment-detail", args=[alert.deployment.name]) + "#alerts"
    )


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()
