"""The monitoring part of the demo: a live production deployment of the version the governance
demo approved, a week of predictions made by the real model with one feature drifting, the
daily checks that catch the drift, and the one alert it opens."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from monitoring.choices import (
    AlertState,
    BaselineSource,
    ChannelKind,
    CheckKind,
    CheckStatus,
    DeploymentMode,
    DeploymentStatus,
    Environment,
)
from monitoring.demo import DEPLOYMENT, DRIFTING_FEATURE, monitoring_demo_seed
from monitoring.models import Alert, CheckResult, Deployment, KpiValue, Prediction
from registry import demo_hooks
from registry.choices import VersionStatus

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(settings, tmp_path, monkeypatch):
    """The whole demo (registry, governance, monitoring). The hook is added for this test only:
    registering it for good is ``MonitoringConfig.ready()``'s business."""
    settings.DEMO_MODE = True
    settings.VAR_DIR = tmp_path / "var"
    settings.ARTIFACT_ROOT = tmp_path / "var" / "artifacts"
    monkeypatch.setattr(demo_hooks, "_hooks", [*demo_hooks.demo_hooks()])
    demo_hooks.demo_hook_register(monitoring_demo_seed)
    return seed()


def test_it_deploys_the_approved_version_live_and_logs_a_week_of_its_answers(seeded):
    deployment = Deployment.objects.get()
    predictions = Prediction.objects.filter(deployment=deployment)
    labelled = predictions.filter(ground_truth__isnull=False).count()

    assert deployment.name == DEPLOYMENT
    assert (deployment.environment, deployment.mode) == (
        Environment.PRODUCTION,
        DeploymentMode.LIVE,
    )
    assert deployment.status == DeploymentStatus.ACTIVE
    assert deployment.model_version.natural_key == "cancer-screening/1"
    assert deployment.model_version.status == VersionStatus.PRODUCTION
    assert deployment.deployed_by.username == "manager"
    assert predictions.count() >= 2_000
    assert 0.4 * predictions.count() <= labelled <= 0.75 * predictions.count()
    sample = predictions.first()
    assert set(sample.outputs) == {"malignant", "probabilities"}
    assert sample.protected["age_band"]
    assert f"deployment {DEPLOYMENT}" in seeded


def test_it_profiles_the_baseline_from_the_training_data_in_the_artifact_store(seeded):
    baseline = Deployment.objects.get().model_version.baselines.get()

    assert baseline.source == BaselineSource.DATASET_VERSION
    assert baseline.dataset_version.dataset.name == "breast-cancer-train"
    assert baseline.content_sha256 == baseline.dataset_version.content_hash


def test_the_daily_checks_catch_the_drifting_feature_late_in_the_week_and_alert_once(seeded):
    """Seven daily windows: stable for five days (sampling noise raises no false alarm), then
    the drifting feature is named; the drift rule opens one alert, which stays open, and the
    version stays in production (the rule does not flag it)."""
    drift = list(CheckResult.objects.filter(kind=CheckKind.DRIFT).order_by("window_end"))
    alert = Alert.objects.exclude(state=AlertState.RESOLVED).get()

    assert len(drift) == 7
    assert [r.status for r in drift[:5]] == [CheckStatus.OK] * 5
    assert drift[-1].status in (CheckStatus.WARNING, CheckStatus.CRITICAL)
    assert DRIFTING_FEATURE in drift[-1].details["drifted_features"]
    assert DRIFTING_FEATURE in drift[-1].summary
    assert Alert.objects.count() == 1
    assert (alert.rule.check_kind, alert.state) == (CheckKind.DRIFT, AlertState.OPEN)
    assert alert.deliveries.get().channel.kind == ChannelKind.EMAIL
    assert alert.deployment.model_version.status == VersionStatus.PRODUCTION


def test_every_kind_of_check_has_a_point_a_day_beside_the_kpis(seeded):
    for kind in CheckKind.values:
        if kind != CheckKind.KPI:
            assert CheckResult.objects.filter(kind=kind).count() == 7, kind
    assert CheckResult.objects.filter(kind=CheckKind.HEALTH).exclude(score=None).exists()
    assert not CheckResult.objects.filter(kind=CheckKind.BIAS, status=CheckStatus.WARNING)
    assert KpiValue.objects.filter(kpi__name="Pathologist referral rate").count() == 7
    assert KpiValue.objects.filter(kpi__name="Accuracy on confirmed diagnoses").count() >= 5


def test_seeding_again_adds_nothing(seeded):
    counts = [
        model.objects.count() for model in (Deployment, Prediction, CheckResult, KpiValue, Alert)
    ]

    output = seed()

    assert "nothing to do" in output
    assert counts == [
        model.objects.count() for model in (Deployment, Prediction, CheckResult, KpiValue, Alert)
    ]
    assert monitoring_demo_seed() == []
