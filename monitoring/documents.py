"""What monitoring adds to a version's generated documents (model card, EU AI Act Annex IV,
SR 11-7 validation report): where the version is deployed, its baseline, the latest result of
each check per deployment and the alerts still open. Plugged in through governance's document
context providers, so governance never imports monitoring."""

from __future__ import annotations

from typing import Any

from monitoring.choices import AlertState, CheckKind
from monitoring.models import Alert, BaselineProfile, CheckResult, Deployment
from registry.models import ModelVersion
from registry.permissions import Visibility

KINDS = [
    CheckKind.HEALTH,
    CheckKind.DRIFT,
    CheckKind.PREDICTION_DRIFT,
    CheckKind.PERFORMANCE,
    CheckKind.BIAS,
]


def monitoring_document_context(version: ModelVersion, visible: Visibility) -> dict[str, Any]:
    """Plain JSON values, as the version's owning team sees them (``visible``): deployments,
    checks and alerts are the version's own; a baseline taken from a dataset version of another
    team is shown without naming it."""
    deployments = list(
        Deployment.objects.filter(model_version=version)
        .select_related("deployed_by", "retired_by")
        .order_by("-deployed_at")
    )
    latest: dict[tuple[int, str], CheckResult] = {}
    results = CheckResult.objects.filter(deployment__in=deployments).order_by(
        "deployment_id", "kind", "-window_end"
    )
    for result in results.only("deployment_id", "kind", "status", "summary", "score", "window_end"):
        latest.setdefault((result.deployment_id, result.kind), result)
    baseline = (
        version.baselines.select_related("dataset_version__dataset")
        .order_by("-created_at", "-id")
        .first()
    )
    open_alerts = Alert.objects.filter(deployment__in=deployments).exclude(
        state=AlertState.RESOLVED
    )
    return {
        "deployments": [_deployment(d, latest) for d in deployments],
        "baseline": None if baseline is None else _baseline(baseline, visible),
        "open_alerts": [
            {"title": a.title, "severity": a.severity, "state": a.state, "opened_at": a.opened_at}
            for a in open_alerts.order_by("-opened_at")[:20]
        ],
    }


def _baseline(baseline: BaselineProfile, visible: Visibility) -> dict[str, Any]:
    source = baseline.dataset_version
    if source is not None and not visible.dataset_version(source):
        return {
            "hidden": True,
            "source": baseline.get_source_display(),
            "label": "a dataset of another team",
            "rows": baseline.row_count,
            "features": [],
            "sha256": "",
        }
    return {
        "hidden": False,
        "source": baseline.get_source_display(),
        "label": baseline.source_label,
        "rows": baseline.row_count,
        "features": sorted((baseline.inputs or {}).get("features", {})),
        "sha256": baseline.content_sha256,
    }


def _deployment(d: Deployment, latest: dict) -> dict[str, Any]:
    checks = []
    for kind in KINDS:
        result = latest.get((d.pk, kind))
        if result is not None:
            checks.append(
                {
                    "kind": result.get_kind_display(),
                    "status": result.status,
                    "summary": result.summary,
                    "at": result.window_end,
                }
            )
    return {
        "name": d.name,
        "environment": d.get_environment_display(),
        "mode": d.get_mode_display(),
        "traffic_percent": d.traffic_percent,
        "status": d.status,
        "deployed_by": str(d.deployed_by),
        "deployed_at": d.deployed_at,
        "retired_at": d.retired_at,
        "retired_reason": d.retired_reason,
        "checks": checks,
    }
