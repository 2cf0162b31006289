"""The monitoring pages in a real Chromium: a member of the owning team opens the dashboard,
spots the deployment whose inputs drift, opens it and finds the drift drawn and the drifting
feature named. Full-page screenshots of both pages are saved for review."""

from __future__ import annotations

import math
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from governance.choices import Action
from monitoring.choices import CheckKind, CheckStatus, DeploymentMode, Environment
from monitoring.models import Prediction
from monitoring.services.alerts import alerts_evaluate_check
from monitoring.tests.factories import (
    AlertRuleFactory,
    CheckResultFactory,
    DeploymentFactory,
    KpiFactory,
    KpiValueFactory,
    ProductionVersionFactory,
)
from registry.choices import RiskTier
from tests.factories import PASSWORD, ModelVersionFactory, RegisteredModelFactory, version_decide

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EDGES = [None, 20_000.0, 35_000.0, 50_000.0, 65_000.0, 80_000.0, None]
REFERENCE = [0.08, 0.2, 0.3, 0.24, 0.12, 0.06]


def _feature(psi: float, shift: float) -> dict:
    """A numeric feature's drift result whose current histogram leans right by ``shift``."""
    current = [max(0.01, r * (1 - shift) + shift * i / 15) for i, r in enumerate(REFERENCE)]
    total = sum(current)
    return {
        "kind": "numeric",
        "psi": psi,
        "ks_statistic": min(0.9, psi / 2),
        "ks_p_value": 0.0 if psi >= 0.2 else 0.4,
        "histogram": {
            "bin_edges": EDGES,
            "reference": REFERENCE,
            "current": [c / total for c in current],
        },
        "evaluated": True,
        "drifted": psi >= 0.2,
        "reason": f"PSI {psi:.3f} >= 0.2" if psi >= 0.2 else f"PSI {psi:.3f}: stable",
    }


def _drift_check(deployment, step: int, steps: int):
    """The ``step``-th of ``steps`` daily drift checks: income drifts away, the rest holds."""
    grow = step / (steps - 1)
    psi = {
        "income": 0.02 + 0.36 * grow**2,
        "debt_ratio": 0.03 + 0.12 * grow,
        "age": 0.02 + 0.01 * math.sin(step),
        "employment_years": 0.04,
    }
    features = {name: _feature(value, min(0.6, value)) for name, value in psi.items()}
    features["region"] = {
        "kind": "categorical",
        "psi": None,
        "js_distance": 0.04,
        "frequencies": {
            "reference": {"north": 400, "south": 350, "west": 250},
            "current": {"north": 380, "south": 370, "west": 250},
        },
        "evaluated": True,
        "drifted": False,
        "reason": "JS 0.040: stable",
    }
    drifted = [name for name, f in features.items() if f["drifted"]]
    status = CheckStatus.WARNING if drifted else CheckStatus.OK
    return CheckResultFactory(
        deployment=deployment,
        kind=CheckKind.DRIFT,
        status=status,
        score=len(drifted) / len(features),
        summary=(
            f"{len(drifted)} of {len(features)} features drifted: {', '.join(drifted)}."
            if drifted
            else f"No drift in {len(features)} features over 2400 rows."
        ),
        details={
            "features": features,
            "drifted_features": drifted,
            "drifted_share": len(drifted) / len(features),
            "status": status,
            "row_count": 2400,
            "thresholds": {"psi": 0.2, "js_distance": 0.1},
        },
        row_count=2400,
    )


def _history(deployment, steps: int = 12) -> None:
    for step in range(steps):
        drift = _drift_check(deployment, step, steps)
        alerts_evaluate_check(drift)
        CheckResultFactory(
            deployment=deployment,
            kind=CheckKind.PERFORMANCE,
            score=0.9 - 0.004 * step,
            details={
                "task": "classification",
                "metrics": {"auc": 0.9 - 0.004 * step, "accuracy": 0.84, "f1": 0.71 - 0.003 * step},
                "labelled": 800,
            },
        )
        score = 92 - 2.5 * step
        CheckResultFactory(
            deployment=deployment,
            kind=CheckKind.HEALTH,
            status=CheckStatus.OK if score >= 80 else CheckStatus.WARNING,
            score=score,
            summary=f"Health {score:.0f}/100",
            details={
                "score": score,
                "components": [
                    {
                        "name": "Data drift",
                        "status": drift.status,
                        "weight": 2.0,
                        "reason": drift.summary,
                    },
                    {"name": "Performance", "status": "ok", "weight": 3.0, "reason": "AUC holds."},
                ],
                "reasons": [f"Data drift is {drift.status}: {drift.summary}"],
            },
        )


@pytest.fixture
def deployments_panel():
    """The version page's deployments panel, as MonitoringConfig.ready() registers it; the
    registry's list of panels is restored afterwards."""
    from monitoring.version_panel import monitoring_panels_register
    from registry import panels

    saved = list(panels._version_panels)
    monitoring_panels_register()
    yield
    panels._version_panels[:] = saved


@pytest.fixture
def approved_version(team, contributor, validator, manager):
    """credit-scorer v1, walked through the workflow: submitted, validated and approved."""
    model = RegisteredModelFactory(
        actor=contributor, name="credit-scorer", owner_team=team, risk_tier=RiskTier.MEDIUM
    )
    version = ModelVersionFactory(actor=contributor, registered_model=model, metrics={"auc": 0.91})
    for actor, action, why in (
        (contributor, Action.SUBMIT, "AUC 0.91 on the 2025-Q1 hold-out; ready for review."),
        (validator, Action.CLAIM, "Taking the validation."),
        (validator, Action.SIGN_OFF, "Evaluation reproduced, no leakage. Signed off."),
        (manager, Action.APPROVE, "Validated with no open findings: approved for production."),
    ):
        version_decide(actor=actor, version=version, action=action, motivation=why)
    return version


@pytest.fixture
def monitored(approved_version, other_team, manager):
    """credit-scorer v1 live in production (which promotes it), drifting on income; a calm
    staging deployment of the same version; and another team's deployment that the member
    must never see."""
    version = approved_version
    live = DeploymentFactory(actor=manager, model_version=version, name="credit-scorer-prod")
    AlertRuleFactory(
        actor=manager,
        deployment=live,
        name="Income drift",
        check_kind=CheckKind.DRIFT,
        min_status=CheckStatus.WARNING,
    )
    _history(live)
    kpi = KpiFactory(
        deployment=live, name="Default rate", unit="%", warning_threshold=4, critical_threshold=6
    )
    for day, value in enumerate([3.1, 3.3, 3.2, 3.8, 4.2, 4.6]):
        KpiValueFactory(
            kpi=kpi,
            value=value,
            status=CheckStatus.OK if value < 4 else CheckStatus.WARNING,
            measured_at=timezone.now() - timedelta(days=6 - day),
        )
    now = timezone.now()
    for i in range(5):
        Prediction.objects.create(
            deployment=live,
            request_id=f"req-2025-{i:04d}",
            predicted_at=now - timedelta(minutes=3 * i),
            received_at=now,
            inputs={"income": 71_000 + 500 * i, "age": 38},
            outputs={"default_probability": 0.12 + 0.01 * i},
            latency_ms=11.0 + i,
        )
    staging = DeploymentFactory(
        actor=manager,
        model_version=version,
        name="credit-scorer-staging",
        environment=Environment.STAGING,
        mode=DeploymentMode.SHADOW,
    )
    CheckResultFactory(
        deployment=staging,
        kind=CheckKind.HEALTH,
        score=97,
        summary="Health 97/100.",
        details={"score": 97, "components": [], "reasons": []},
    )
    churn = RegisteredModelFactory(name="churn-predictor", owner_team=other_team)
    DeploymentFactory(
        model_version=ProductionVersionFactory(registered_model=churn), name="churn-prod"
    )
    return live


def sign_in(page: Page, base: str, username: str) -> None:
    page.set_viewport_size({"width": 1360, "height": 900})
    page.goto(f"{base}/login/?next=/monitoring/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()


def test_a_member_finds_the_drifting_deployment_and_sees_the_drift_drawn(
    page: Page, live_server, monitored, member, screenshot_dir, deployments_panel
):
    base = live_server.url
    sign_in(page, base, member.username)

    expect(page).to_have_url(f"{base}/monitoring/")
    expect(page.get_by_test_id("monitoring-link")).to_have_attribute("aria-current", "page")
    rows = page.get_by_test_id("deployment-row")
    expect(rows).to_have_count(2)
    expect(page.get_by_text("churn-prod")).to_have_count(0)
    drifting = page.locator('[data-testid="deployment-row"][data-deployment="credit-scorer-prod"]')
    expect(drifting.get_by_test_id("drift-status")).to_have_text(re.compile("Warning|Critical"))
    expect(drifting.get_by_test_id("drifted-features")).to_contain_text("income")
    expect(page.get_by_test_id("alert-row")).to_have_count(1)
    # The stylesheet of the monitoring pages is served and applied.
    expect(drifting.get_by_test_id("drift-status")).to_have_css(
        "background-color", "rgb(255, 251, 235)"
    )
    page.screenshot(path=screenshot_dir / "monitoring-dashboard.png", full_page=True)

    drifting.get_by_test_id("deployment-link").click()

    expect(page).to_have_url(f"{base}/monitoring/deployments/credit-scorer-prod/")
    expect(page.get_by_test_id("deployment-name")).to_have_text("credit-scorer-prod")
    charts = page.get_by_test_id("drift-charts")
    expect(charts.locator("svg[data-chart='drift-trend']")).to_be_visible()
    expect(charts.locator("svg[data-chart='drift-features']")).to_be_visible()
    expect(charts.locator("svg[data-chart='drift-trend'] .chart-series")).to_have_count(4)
    expect(page.get_by_test_id("drifted-feature")).to_have_attribute("data-feature", "income")
    expect(page.locator("svg[data-chart='feature-histogram']")).to_contain_text("income")
    expect(page.locator("svg[data-chart='performance']")).to_be_visible()
    expect(page.locator("svg[data-chart='health']")).to_be_visible()
    expect(page.get_by_test_id("prediction-row")).to_have_count(5)
    page.screenshot(path=screenshot_dir / "monitoring-deployment.png", full_page=True)

    # The version page lists where the version serves.
    page.get_by_test_id("version-link").first.click()
    expect(page).to_have_url(f"{base}/models/credit-scorer/versions/1/")
    expect(page.get_by_test_id("version-deployment")).to_have_count(2)
    panel = page.get_by_test_id("deployments-panel")
    expect(panel.get_by_role("link", name="credit-scorer-prod")).to_be_visible()
    panel.screenshot(path=screenshot_dir / "monitoring-version-panel.png")


def test_a_manager_acknowledges_the_alert_and_traces_a_prediction_to_its_approval(
    page: Page, live_server, monitored, manager, screenshot_dir
):
    base = live_server.url
    sign_in(page, base, manager.username)

    page.get_by_test_id("alert-link").click()
    expect(page.get_by_test_id("alert-state")).to_have_text("Open")
    page.get_by_placeholder("Note (optional)").fill("Looking at the income feed.")
    page.get_by_test_id("acknowledge").click()
    expect(page.locator(".message--success")).to_contain_text("acknowledged")
    expect(page.get_by_test_id("alert-state")).to_have_text("Acknowledged")
    expect(page.get_by_test_id("alert-acknowledged")).to_contain_text("Looking at the income feed.")
    # The history ends with the acknowledgement, by whom and with the note.
    acknowledged = page.get_by_test_id("alert-event").last
    expect(acknowledged).to_have_attribute("data-kind", "acknowledged")
    expect(acknowledged).to_contain_text("by max")
    expect(acknowledged).to_contain_text("Looking at the income feed.")
    page.screenshot(path=screenshot_dir / "monitoring-alert.png", full_page=True)

    page.get_by_role("link", name="credit-scorer-prod").first.click()
    page.get_by_test_id("prediction-link").first.click()

    expect(page).to_have_url(re.compile(r"/monitoring/predictions/\?request_id=req-2025-0000$"))
    expect(page.get_by_test_id("lookup-result")).to_have_count(1)
    expect(page.get_by_test_id("lookup-approver")).to_contain_text("max")
    expect(page.get_by_test_id("lookup-decision")).to_have_count(5)  # ... approve, promote
    page.screenshot(path=screenshot_dir / "monitoring-lookup.png", full_page=True)


@pytest.fixture
def drifting(team, manager):
    """credit-scorer in production (made so by the factory, not by walking the workflow) and
    live as 'credit-scorer-prod', with the drifting history and its alert rule."""
    model = RegisteredModelFactory(name="credit-scorer", owner_team=team, risk_tier=RiskTier.MEDIUM)
    version = ProductionVersionFactory(registered_model=model, metrics={"auc": 0.91})
    live = DeploymentFactory(model_version=version, name="credit-scorer-prod")
    AlertRuleFactory(
        deployment=live,
        name="Income drift",
        check_kind=CheckKind.DRIFT,
        min_status=CheckStatus.WARNING,
    )
    _history(live)
    return live


@pytest.mark.parametrize("width", (1400, 800))
def test_signals_agree_on_the_alert_and_deployment_pages(
    page: Page, live_server, drifting, manager, screenshot_dir, width
):
    """The alert's title says which feature drifted and by how much, its page draws that
    feature (raw details one click away), the health score is held in the band of its failing
    check with the reason said, numbers read as numbers, and the policy refuses nothing."""
    from tests.browser.test_csp import PolicyWatch

    CheckResultFactory(
        deployment=drifting,
        kind=CheckKind.HEALTH,
        status=CheckStatus.WARNING,
        score=79.0,
        window_end=timezone.now(),
        window_start=timezone.now() - timedelta(hours=1),
        summary="Health 79/100 (capped: Data drift is warning): Data drift: income drifted.",
        details={
            "score": 79.0,
            "status": "warning",
            "cap": {"limit": 79, "band": "warning", "by": "Data drift", "mean": 92.7},
            "cap_reason": "Capped at 79 (the warning band) because Data drift is warning; "
            "the checks average 92.7.",
            "reasons": ["Data drift: 1 of 5 features drifted: income."],
            "components": [],
        },
    )
    base = live_server.url
    watch = PolicyWatch(page, base)
    sign_in(page, base, manager.username)
    page.set_viewport_size({"width": width, "height": 900})

    watch.open("/monitoring/")
    page.get_by_test_id("alert-link").click()
    expect(page.get_by_test_id("alert-title")).to_have_text(
        re.compile(r"^income drifted: PSI 0\.\d\d > 0\.20 on credit-scorer-prod \(Income drift\)$")
    )
    charts = page.get_by_test_id("alert-charts")
    expect(charts.locator("svg[data-chart='feature-histogram']")).to_be_visible()
    expect(charts.locator("svg[data-chart='feature-histogram']")).to_contain_text("income")
    raw = page.get_by_test_id("alert-raw-details")
    expect(raw).not_to_have_attribute("open", "")
    page.screenshot(path=screenshot_dir / f"monitoring-alert-chart-{width}.png", full_page=True)

    watch.open("/monitoring/deployments/credit-scorer-prod/")
    expect(page.get_by_test_id("health-cap")).to_contain_text("Capped at 79 (the warning band)")
    expect(page.get_by_test_id("health-score").first).to_have_text("79")
    scores = page.get_by_test_id("check-score")
    expect(scores.first).to_be_visible()
    for text in scores.all_inner_texts():
        assert not re.search(r"\.\d*0\b", text), text  # no "92.700", no "0.330"
    page.get_by_test_id("health-panel").screenshot(
        path=screenshot_dir / f"monitoring-health-cap-{width}.png"
    )
    watch.collect()
    assert watch.refused == []
