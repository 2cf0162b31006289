"""The monitoring pages: the dashboard, a deployment's page with its charts, the prediction
lookup, an alert's page and the version page's deployments panel. Each is scoped to what the
user may see (another team's deployment is a 404 and is never listed), and each refused form
shows the service's message with its status instead of a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from governance.choices import Action
from monitoring.choices import (
    AlertState,
    CheckKind,
    CheckStatus,
    DeploymentMode,
    Environment,
    Severity,
)
from monitoring.models import Alert, Prediction
from monitoring.services.alerts import alerts_evaluate_check
from monitoring.services.deployments import deployment_retire
from monitoring.tests.factories import (
    AlertRuleFactory,
    ApprovedVersionFactory,
    CheckResultFactory,
    DeploymentFactory,
    KpiFactory,
    KpiValueFactory,
    ProductionVersionFactory,
    version_status_set,
)
from registry import panels
from registry.choices import LineageKind, RiskTier
from registry.choices import VersionStatus as S
from registry.lineage_svg import lineage_node_url
from tests.factories import ModelVersionFactory, RegisteredModelFactory, version_decide

pytestmark = pytest.mark.django_db

WHY = "Evidence reviewed; the hold-out metrics reproduce."


# --- Building the data (test set-up writes rows directly; the app writes through services) ---


def drift_details(psi: dict[str, float], *, threshold: float = 0.2) -> dict:
    """Details of a data drift check as the check service writes them, one numeric feature per
    entry of ``psi``."""
    features = {
        name: {
            "kind": "numeric",
            "psi": value,
            "ks_statistic": 0.1,
            "ks_p_value": 0.2,
            "histogram": {
                "bin_edges": [None, 10.0, 20.0, None],
                "reference": [0.3, 0.4, 0.3],
                "current": [0.1, 0.3, 0.6] if value >= threshold else [0.3, 0.4, 0.3],
            },
            "evaluated": True,
            "drifted": value >= threshold,
            "reason": f"PSI {value:.3f}",
        }
        for name, value in psi.items()
    }
    drifted = [name for name, f in features.items() if f["drifted"]]
    return {
        "features": features,
        "drifted_features": drifted,
        "drifted_share": len(drifted) / len(features),
        "status": "warning" if drifted else "ok",
        "row_count": 500,
        "thresholds": {"psi": threshold, "js_distance": 0.1},
    }


def add_drift(deployment, psi: dict[str, float]):
    details = drift_details(psi)
    return CheckResultFactory(
        deployment=deployment,
        kind=CheckKind.DRIFT,
        status=details["status"],
        score=details["drifted_share"],
        summary=f"{len(details['drifted_features'])} of {len(psi)} features drifted.",
        details=details,
    )


def add_health(deployment, score: float, reasons: list[str]):
    status = CheckStatus.OK if score >= 80 else CheckStatus.WARNING
    return CheckResultFactory(
        deployment=deployment,
        kind=CheckKind.HEALTH,
        status=status,
        score=score,
        summary=f"Health {score:.0f}/100",
        details={"score": score, "components": [], "reasons": reasons},
    )


def add_performance(deployment, auc: float):
    return CheckResultFactory(
        deployment=deployment,
        kind=CheckKind.PERFORMANCE,
        status=CheckStatus.OK,
        score=auc,
        details={
            "task": "classification",
            "metrics": {"auc": auc, "accuracy": 0.81, "f1": 0.7, "n": 400},
            "labelled": 400,
        },
    )


def add_prediction(deployment, request_id: str, **extra) -> Prediction:
    now = timezone.now()
    return Prediction.objects.create(
        deployment=deployment,
        request_id=request_id,
        predicted_at=extra.pop("predicted_at", now),
        received_at=now,
        inputs={"income": 52_000.0, "age": 41},
        outputs={"label": "yes", "probability": 0.83},
        latency_ms=12.5,
        **extra,
    )


def open_drift_alert(deployment, *, psi=0.45):
    """A rule on the deployment's drift warnings and the alert a drifting check opens."""
    AlertRuleFactory(
        deployment=deployment,
        name=f"{deployment.name} drifts",
        check_kind=CheckKind.DRIFT,
        min_status=CheckStatus.WARNING,
        severity=Severity.WARNING,
    )
    (alert,) = alerts_evaluate_check(add_drift(deployment, {"income": psi, "age": 0.05}))
    return alert


def url(name: str, *args) -> str:
    return reverse(f"monitoring:{name}", args=args)


# --- Fixtures -------------------------------------------------------------------------------


@pytest.fixture
def scorer(team):
    """credit-scorer v1 in production as 'credit-scorer-prod', drifting on income: three drift
    checks, performance, health with its reasons, a KPI, predictions and an open alert."""
    model = RegisteredModelFactory(name="credit-scorer", owner_team=team, risk_tier=RiskTier.HIGH)
    version = ProductionVersionFactory(registered_model=model, metrics={"auc": 0.91})
    deployment = DeploymentFactory(model_version=version, name="credit-scorer-prod")
    add_drift(deployment, {"income": 0.05, "age": 0.02})
    add_drift(deployment, {"income": 0.12, "age": 0.03})
    open_drift_alert(deployment, psi=0.41)
    add_performance(deployment, 0.88)
    add_health(deployment, 62, ["Data drift is warning: 1 of 2 features drifted: income."])
    kpi = KpiFactory(deployment=deployment, name="Default rate", unit="%")
    KpiValueFactory(kpi=kpi, value=0.05)
    KpiValueFactory(kpi=kpi, value=0.15, status=CheckStatus.WARNING)
    for i in range(3):
        add_prediction(deployment, f"req-{i}", predicted_at=timezone.now() - timedelta(minutes=i))
    return deployment


@pytest.fixture
def foreign(other_team):
    """Marketing's churn model, deployed: no one in Credit Risk may see it."""
    model = RegisteredModelFactory(name="churn-predictor", owner_team=other_team)
    version = ProductionVersionFactory(registered_model=model)
    deployment = DeploymentFactory(model_version=version, name="churn-prod")
    add_health(deployment, 95, [])
    add_prediction(deployment, "req-foreign")
    open_drift_alert(deployment)
    return deployment


@pytest.fixture
def deployments_panel():
    """The deployments panel on the version page, as MonitoringConfig.ready() registers it;
    the registry's list of panels is restored afterwards."""
    from monitoring.version_panel import monitoring_panels_register

    saved = list(panels._version_panels)
    monitoring_panels_register()
    yield
    panels._version_panels[:] = saved


# --- Dashboard ------------------------------------------------------------------------------


def test_it_lists_the_teams_deployments_with_health_drift_and_alerts(
    client, member, scorer, foreign
):
    client.force_login(member)

    response = client.get(url("dashboard"))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-deployment="credit-scorer-prod"' in html
    assert "credit-scorer v1" in html
    assert 'data-testid="health-score">62<' in html
    assert "1 of 2 features drifted: income." in html  # the health reason, on hover and expand
    assert 'data-testid="drift-status">Warning<' in html
    assert 'data-testid="open-alerts">1<' in html
    assert "credit-scorer-prod drifts" in html  # the alert list
    assert "churn" not in html


def test_it_makes_a_flagged_version_stand_out(client, member, scorer):
    version_status_set(scorer.model_version, S.FLAGGED)
    client.force_login(member)

    html = client.get(url("dashboard")).content.decode()

    assert "deployment-row--flagged" in html
    assert "badge status-flagged" in html


def test_it_hides_retired_deployments_unless_asked(client, member, manager, scorer):
    deployment_retire(actor=manager, deployment=scorer, reason="Replaced by the new scorer.")
    client.force_login(member)

    html = client.get(url("dashboard")).content.decode()
    assert 'data-deployment="credit-scorer-prod"' not in html
    html = client.get(url("dashboard"), {"retired": "1"}).content.decode()
    assert 'data-deployment="credit-scorer-prod"' in html


def test_it_filters_by_environment_and_refuses_an_unknown_one(client, member, scorer):
    staging = DeploymentFactory(
        model_version=scorer.model_version,
        name="credit-scorer-staging",
        environment=Environment.STAGING,
        mode=DeploymentMode.SHADOW,
    )
    client.force_login(member)

    html = client.get(url("dashboard"), {"environment": "staging"}).content.decode()
    assert f'data-deployment="{staging.name}"' in html
    assert 'data-deployment="credit-scorer-prod"' not in html

    response = client.get(url("dashboard"), {"environment": "moon"})
    assert response.status_code == 400
    assert "Unknown environment" in response.content.decode()


def _dashboard_deployment(team, n: int):
    model = RegisteredModelFactory(name=f"model-q{n}", owner_team=team)
    deployment = DeploymentFactory(
        model_version=ProductionVersionFactory(registered_model=model), name=f"deployment-q{n}"
    )
    add_health(deployment, 70, ["Performance is warning."])
    open_drift_alert(deployment)
    return deployment


def test_the_dashboard_costs_the_same_queries_for_2_or_10_deployments(
    client, member, team, django_assert_max_num_queries
):
    """Health, drift, last check and open alerts come from subqueries and one bulk read of
    check results, never one query per row."""
    for n in range(2):
        _dashboard_deployment(team, n)
    client.force_login(member)
    client.get(url("dashboard"))  # the session and the user's roles are warm
    with CaptureQueriesContext(connection) as two:
        assert client.get(url("dashboard")).status_code == 200
    for n in range(2, 10):
        _dashboard_deployment(team, n)

    with django_assert_max_num_queries(len(two)):
        html = client.get(url("dashboard")).content.decode()

    assert html.count('data-testid="deployment-row"') == 10
    assert html.count('data-testid="alert-row"') == 10


# --- One deployment -------------------------------------------------------------------------


def test_it_shows_a_deployment_with_its_charts_checks_predictions_and_alerts(
    client, member, scorer
):
    client.force_login(member)

    response = client.get(url("deployment-detail", "credit-scorer-prod"))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="deployment-name">credit-scorer-prod<' in html
    assert 'data-testid="traffic">100%<' in html
    # (a) and (b): drift over time and per feature, as inline SVG in the drift section.
    drift = html[html.index('data-testid="drift-section"') : html.index('id="performance-title"')]
    assert drift.count("<svg") == 3  # trend, per feature, histogram of the chosen feature
    assert 'data-chart="drift-trend"' in drift and 'data-chart="drift-features"' in drift
    assert 'data-testid="drifted-feature" data-feature="income"' in drift
    assert "income: baseline vs current" in drift  # (c), the most drifting feature by default
    for chart in ("performance", "health", "kpi-"):
        assert f'data-chart="{chart}' in html
    assert "Default rate" in html
    assert "1 of 2 features drifted: income." in html
    assert html.count('data-testid="prediction-row"') == 3
    assert url("prediction-lookup") + "?request_id=req-0" in html
    assert "credit-scorer-prod drifts" in html
    # A member may look, not act: no forms.
    assert 'data-testid="run-checks"' not in html
    assert 'data-testid="acknowledge"' not in html


def test_it_says_so_when_a_deployment_has_no_checks_yet(client, member, team):
    model = RegisteredModelFactory(name="fresh-model", owner_team=team)
    DeploymentFactory(model_version=ProductionVersionFactory(registered_model=model), name="fresh")
    client.force_login(member)

    html = client.get(url("deployment-detail", "fresh")).content.decode()

    assert "<svg" not in html.split('data-testid="drift-section"')[1].split("</section>")[0]
    assert "No drift checks yet." in html
    assert "No performance checks yet." in html
    assert "No health checks yet." in html


def test_it_shows_the_histogram_of_the_feature_asked_for(client, member, scorer):
    client.force_login(member)

    html = client.get(url("deployment-detail", "credit-scorer-prod"), {"feature": "age"})

    assert "age: baseline vs current" in html.content.decode()


def test_another_teams_deployment_is_not_found(client, outsider, scorer):
    client.force_login(outsider)

    response = client.get(url("deployment-detail", "credit-scorer-prod"))

    assert response.status_code == 404
    html = response.content.decode()
    assert 'data-testid="deployment-name"' not in html and "credit-scorer v1" not in html
    assert client.get(url("deployment-detail", "no-such-thing")).status_code == 404


def test_odd_ids_and_page_numbers_are_answered_not_crashed_on(client, member, scorer):
    client.force_login(member)
    page = url("deployment-detail", "credit-scorer-prod")

    assert client.get(url("alert-detail", 10**30)).status_code == 404
    assert client.get(page, {"page": "9" * 40}).status_code == 200
    assert client.get(page, {"page": "last"}).status_code == 200


def test_it_needs_a_login(client, scorer):
    response = client.get(url("deployment-detail", "credit-scorer-prod"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- Forms: run checks, acknowledge, resolve -------------------------------------------------


def test_a_manager_queues_checks(client, manager, scorer, django_capture_on_commit_callbacks):
    client.force_login(manager)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url("deployment-checks-run", "credit-scorer-prod"), follow=True)

    assert len(callbacks) == 1
    assert "Checks queued" in response.content.decode()


def test_checks_of_a_retired_deployment_are_refused_on_the_page(client, manager, scorer):
    deployment_retire(actor=manager, deployment=scorer, reason="Replaced by the new scorer.")
    client.force_login(manager)

    response = client.post(url("deployment-checks-run", "credit-scorer-prod"))

    assert response.status_code == 409
    assert 'data-testid="checks-error"' in response.content.decode()
    assert "is retired" in response.content.decode()


def test_a_member_asking_for_checks_is_refused_on_the_page(client, member, scorer):
    client.force_login(member)

    response = client.post(url("deployment-checks-run", "credit-scorer-prod"))

    assert response.status_code == 403
    assert 'data-testid="checks-error"' in response.content.decode()
    assert "You may not" in response.content.decode()


def test_a_manager_acknowledges_then_resolves_an_alert(client, manager, scorer):
    alert = Alert.objects.get(deployment=scorer)
    client.force_login(manager)
    page = client.get(url("deployment-detail", "credit-scorer-prod")).content.decode()
    assert 'data-testid="acknowledge"' in page and 'data-testid="run-checks"' in page

    response = client.post(url("alert-acknowledge", alert.pk), {"note": "Looking into it."})
    assert response.status_code == 302
    assert response["Location"].endswith("#alerts")
    response = client.post(
        url("alert-resolve", alert.pk),
        {"note": "Income feed fixed upstream.", "return_to": "alert"},
        follow=True,
    )

    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED
    assert alert.acknowledgement_note == "Looking into it."
    assert response.redirect_chain[-1][0] == url("alert-detail", alert.pk)
    assert "resolved" in response.content.decode()


def test_a_refused_acknowledgement_shows_the_error_and_changes_nothing(client, member, scorer):
    alert = Alert.objects.get(deployment=scorer)
    client.force_login(member)

    response = client.post(url("alert-acknowledge", alert.pk), {"note": "Mine."})

    assert response.status_code == 403
    html = response.content.decode()
    assert 'data-testid="alert-form-error"' in html
    assert "You may not" in html
    assert 'data-testid="deployment-name">credit-scorer-prod<' in html  # the page, again
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN


def test_resolving_without_a_note_is_refused_beside_the_form(client, manager, scorer):
    alert = Alert.objects.get(deployment=scorer)
    client.force_login(manager)

    response = client.post(url("alert-resolve", alert.pk), {"note": " ", "return_to": "alert"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Say how it was resolved" in html
    assert f'data-testid="alert-title">{escape(alert.title)}<' in html
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN


def test_an_outsider_cannot_touch_another_teams_alert(client, outsider, scorer):
    alert = Alert.objects.get(deployment=scorer)
    client.force_login(outsider)

    assert client.post(url("alert-resolve", alert.pk), {"note": "Not mine."}).status_code == 404
    assert client.get(url("alert-detail", alert.pk)).status_code == 404
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN


# --- Alert page -----------------------------------------------------------------------------


def test_it_shows_an_alert_with_its_rule_check_and_occurrences(client, member, scorer):
    alert = Alert.objects.get(deployment=scorer)
    alerts_evaluate_check(add_drift(scorer, {"income": 0.5, "age": 0.01}))
    client.force_login(member)

    response = client.get(url("alert-detail", alert.pk))

    assert response.status_code == 200
    html = response.content.decode()
    assert "credit-scorer-prod drifts" in html
    assert 'data-testid="alert-occurrences">2<' in html
    assert "Data drift" in html and "features drifted" in html
    assert "No deliveries" in html
    flags = "yes, when critical" if alert.rule.flag_version else "no"
    assert f'data-testid="alert-flags">{flags}<' in html
    alert.rule.flag_version = not alert.rule.flag_version
    alert.rule.save(update_fields=["flag_version"])
    flags = "yes, when critical" if alert.rule.flag_version else "no"
    assert f'data-testid="alert-flags">{flags}<' in client.get(url("alert-detail", alert.pk)).text


# --- Prediction lookup ----------------------------------------------------------------------


@pytest.fixture
def approved_deployment(team, contributor, validator, manager):
    """A medium-risk version walked through the workflow and deployed live in production
    (which promotes it), plus a shadow deployment of a newer version answering the same
    requests."""
    model = RegisteredModelFactory(
        actor=contributor, name="limit-setter", owner_team=team, risk_tier=RiskTier.MEDIUM
    )
    version = ModelVersionFactory(actor=contributor, registered_model=model)
    for actor, action in (
        (contributor, Action.SUBMIT),
        (validator, Action.CLAIM),
        (validator, Action.SIGN_OFF),
        (manager, Action.APPROVE),
    ):
        version_decide(actor=actor, version=version, action=action, motivation=WHY)
    live = DeploymentFactory(actor=manager, model_version=version, name="limit-setter-live")
    shadow = DeploymentFactory(
        actor=manager,
        model_version=ApprovedVersionFactory(registered_model=model),
        name="limit-setter-shadow",
        mode=DeploymentMode.SHADOW,
    )
    add_prediction(live, "req-42", ground_truth={"label": "no"}, ground_truth_at=timezone.now())
    add_prediction(shadow, "req-42")
    return live


def test_the_lookup_names_the_version_and_who_approved_it(client, member, approved_deployment):
    client.force_login(member)

    response = client.get(url("prediction-lookup"), {"request_id": "req-42"})

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="lookup-result"') == 2  # live and shadow
    assert "limit-setter v1" in html and "limit-setter v2" in html
    assert 'data-testid="lookup-approver">Approved for production by <strong>max</strong>' in html
    assert 'data-action="promote"' in html and WHY in html
    assert "&quot;label&quot;: &quot;no&quot;" in html  # the ground truth
    assert "#lineage-title" in html


def test_the_lookup_does_not_reveal_another_teams_prediction(client, outsider, approved_deployment):
    client.force_login(outsider)

    invisible = client.get(url("prediction-lookup"), {"request_id": "req-42"}).content.decode()
    unknown = client.get(url("prediction-lookup"), {"request_id": "req-none"}).content.decode()

    for html in (invisible, unknown):
        assert 'data-testid="lookup-empty"' in html
        assert "limit-setter" not in html


def test_the_lookup_refuses_a_request_id_that_cannot_be_one(client, member):
    client.force_login(member)

    response = client.get(url("prediction-lookup"), {"request_id": "x" * 129})

    assert response.status_code == 400
    assert "at most 128 characters" in response.content.decode()


# --- The version page's panel and the lineage -----------------------------------------------


def test_the_version_page_lists_the_versions_deployments(client, member, scorer, deployments_panel):
    version = scorer.model_version
    client.force_login(member)

    response = client.get(
        reverse("registry:model-version-detail", args=[version.registered_model.name, 1])
    )

    html = response.content.decode()
    assert 'data-testid="version-deployment" data-deployment="credit-scorer-prod"' in html
    assert url("deployment-detail", "credit-scorer-prod") in html
    assert 'data-testid="health-score">62<' in html


def test_a_lineage_node_of_a_deployment_links_to_its_page():
    assert lineage_node_url(LineageKind.DEPLOYMENT, "credit-scorer-prod") == url(
        "deployment-detail", "credit-scorer-prod"
    )
