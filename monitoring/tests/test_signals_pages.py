"""Signals as people meet them: an alert's title says what happened, its page draws the
drifted feature instead of dumping JSON, the health result is capped by a failing check, and
the monitoring pages show numbers as people read them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from monitoring.choices import CheckKind, CheckStatus, Severity
from monitoring.services.alerts import alerts_evaluate_check
from monitoring.services.checks import health_outcome
from monitoring.tests.factories import (
    AlertRuleFactory,
    CheckResultFactory,
    DeploymentFactory,
    ProductionVersionFactory,
)
from monitoring.tests.test_views import add_drift, drift_details
from tests.factories import RegisteredModelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def deployment(team):
    model = RegisteredModelFactory(name="tumour-classifier", owner_team=team)
    return DeploymentFactory(
        name="tumour-prod", model_version=ProductionVersionFactory(registered_model=model)
    )


def drift_alert(deployment, psi: dict[str, float]):
    AlertRuleFactory(
        deployment=deployment,
        name="drift watch",
        check_kind=CheckKind.DRIFT,
        min_status=CheckStatus.WARNING,
        severity=Severity.WARNING,
    )
    (alert,) = alerts_evaluate_check(add_drift(deployment, psi))
    return alert


def test_an_alert_title_says_which_feature_drifted_and_by_how_much(deployment):
    alert = drift_alert(deployment, {"mean_radius": 1.3912, "mean_texture": 0.05})
    assert alert.title == "mean_radius drifted: PSI 1.39 > 0.20 on tumour-prod (drift watch)"
    assert "score" not in alert.title


def test_the_alert_page_draws_the_drifted_feature_and_keeps_the_raw_details_collapsed(
    client, manager, deployment
):
    alert = drift_alert(deployment, {"mean_radius": 1.39, "mean_texture": 0.05})
    client.force_login(manager)
    html = client.get(reverse("monitoring:alert-detail", args=[alert.pk])).content.decode()
    charts = html[html.index('data-testid="alert-charts"') : html.index('data-testid="deliveries"')]
    assert 'data-chart="feature-histogram"' in charts
    assert "mean_radius: baseline vs current" in charts
    assert 'data-chart="drift-features"' in charts
    assert '<details class="raw-details" data-testid="alert-raw-details">' in html
    assert '<details class="raw-details" data-testid="alert-raw-details" open' not in html


def test_a_health_alert_page_draws_the_health_series(client, manager, deployment):
    rule = AlertRuleFactory(deployment=deployment, check_kind=CheckKind.HEALTH, health_below=60)
    CheckResultFactory(deployment=deployment, kind=CheckKind.HEALTH, score=91.0)
    (alert,) = alerts_evaluate_check(
        CheckResultFactory(
            deployment=deployment,
            kind=CheckKind.HEALTH,
            status=CheckStatus.CRITICAL,
            score=49.0,
            details={"cap": {"by": "Data drift", "band": "critical"}, "reasons": []},
        )
    )
    assert alert.rule == rule
    assert alert.title.startswith("health 49/100: Data drift is critical")
    client.force_login(manager)
    html = client.get(reverse("monitoring:alert-detail", args=[alert.pk])).content.decode()
    assert 'data-chart="health"' in html
    assert "health score below 60<" in html  # not "60.0"


def test_a_severely_drifting_feature_caps_the_health_result_in_the_critical_band(deployment):
    details = drift_details({"mean_radius": 1.39, **{f"f{i}": 0.01 for i in range(29)}})
    results = [
        CheckResultFactory(
            deployment=deployment, kind=CheckKind.DRIFT, status="critical", details=details
        ),
        CheckResultFactory(deployment=deployment, kind=CheckKind.PERFORMANCE, status="ok"),
        CheckResultFactory(deployment=deployment, kind=CheckKind.PREDICTION_DRIFT, status="ok"),
        CheckResultFactory(deployment=deployment, kind=CheckKind.BIAS, status="ok"),
    ]
    outcome = health_outcome(deployment, results)
    assert (outcome.status, outcome.score) == ("critical", 49)
    # The mean alone, (3 + 2 + 2) * 100 / 9, would have called a critical drift a warning.
    assert outcome.details["cap"]["mean"] == pytest.approx(77.8)
    assert outcome.summary.startswith("Health 49/100 (capped: Data drift is critical)")


def test_the_deployment_page_shows_the_cap_and_numbers_without_trailing_zeros(
    client, manager, deployment
):
    CheckResultFactory(
        deployment=deployment,
        kind=CheckKind.HEALTH,
        status=CheckStatus.WARNING,
        score=79.0,
        summary="Health 79/100",
        details={
            "score": 79.0,
            "reasons": ["Data drift: 1 of 30 features drifted: mean_radius."],
            "cap": {"limit": 79, "band": "warning", "by": "Data drift", "mean": 92.7},
            "cap_reason": "Capped at 79 (the warning band) because Data drift is warning; "
            "the checks average 92.7.",
            "components": [{"name": "Data drift", "status": "warning", "weight": 2.0}],
        },
    )
    add_drift(deployment, {"mean_radius": 0.41, "mean_texture": 0.0512})
    client.force_login(manager)
    html = client.get(reverse("monitoring:deployment-detail", args=["tumour-prod"])).content
    html = html.decode()
    assert 'data-testid="health-cap">Capped at 79 (the warning band)' in html
    assert "92.700" not in html and "79.000" not in html
    assert "PSI 0.0512" in html and "PSI 0.41<" in html
    assert "50 % drifted" in html  # the drift check's score: one of two features
    assert "79/100" in html
