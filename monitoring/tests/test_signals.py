"""Monitoring signals that agree: a failing check caps the health score inside its own band, a
feature drifting several times past its threshold makes the drift check critical, and alert
headlines say what happened with the number and its limit. No database here."""

from __future__ import annotations

import json

import numpy as np
import pytest

from monitoring.stats import (
    DriftThresholds,
    HealthComponent,
    baseline_profile_build,
    drift_report,
    health_score,
)
from monitoring.stats.headline import check_headline
from monitoring.stats.health import STATUS_CAPS, score_band


def passing(*names: str) -> list[HealthComponent]:
    return [HealthComponent(name, "ok", weight=2.0) for name in names]


def test_a_warning_check_caps_a_green_mean_at_the_top_of_the_warning_band():
    """One drifting feature among passing checks averaged 91, "green"; now the band agrees."""
    components = [
        HealthComponent("Performance", "ok", weight=3.0),
        HealthComponent("Data drift", "warning", weight=2.0, reason="1 of 30 features drifted"),
        *passing("Prediction drift", "Bias"),
    ]
    result = health_score(components)
    assert result["cap"]["mean"] == pytest.approx(round((300 + 120 + 400) / 9, 1))
    assert (result["score"], result["status"]) == (STATUS_CAPS["warning"], "warning")
    assert result["score"] < 80
    assert "Data drift is warning" in result["cap_reason"]
    assert result["reasons"] == ["Data drift: 1 of 30 features drifted"]


def test_a_critical_check_caps_the_score_in_the_critical_band():
    components = [
        HealthComponent("Performance", "ok", weight=3.0),
        HealthComponent("Data drift", "critical", weight=2.0, reason="mean_radius PSI 1.39"),
        HealthComponent("Bias", "warning", weight=2.0),
        *passing("Prediction drift"),
    ]
    result = json.loads(json.dumps(health_score(components)))
    assert (result["score"], result["status"]) == (49, "critical")
    assert result["cap"]["by"] == "Data drift" and result["cap"]["band"] == "critical"
    assert result["cap_reason"].startswith("Capped at 49 (the critical band)")


def test_no_cap_when_every_check_passes_or_the_mean_is_already_lower():
    assert health_score(passing("a", "b"))["cap"] is None
    assert health_score(passing("a", "b"))["score"] == 100
    all_warning = health_score([HealthComponent("a", "warning"), HealthComponent("b", "warning")])
    assert (all_warning["score"], all_warning["status"], all_warning["cap"]) == (
        60,
        "warning",
        None,
    )
    assert all_warning["cap_reason"] == ""


def test_an_unknown_check_neither_lowers_nor_caps_the_score():
    result = health_score([*passing("a"), HealthComponent("b", "unknown", reason="no data")])
    assert (result["score"], result["status"], result["cap"]) == (100, "ok", None)


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (None, "unknown"),
        (100, "ok"),
        (80, "ok"),
        (79, "warning"),
        (50, "warning"),
        (49, "critical"),
    ],
)
def test_the_bands_of_the_score(score, band):
    assert score_band(score) == band


def shifted_report(shift: float, thresholds: DriftThresholds | None = None) -> dict:
    rng = np.random.default_rng(11)
    names = [f"f{i}" for i in range(10)]
    profile = baseline_profile_build({n: rng.normal(size=5_000) for n in names})
    window = {n: rng.normal(size=5_000) for n in names}
    window["f0"] = rng.normal(shift, 1.0, 5_000)
    return drift_report(profile, window, thresholds)


def test_one_feature_far_past_its_threshold_makes_drift_critical():
    report = shifted_report(3.0)
    assert report["drifted_features"] == ["f0"] and report["drifted_share"] == pytest.approx(0.1)
    assert report["features"]["f0"]["psi"] >= 5 * 0.2
    assert report["severe_features"] == ["f0"]
    assert report["status"] == "critical"


def test_one_feature_just_past_its_threshold_stays_a_warning():
    report = shifted_report(0.6)
    psi = report["features"]["f0"]["psi"]
    assert 0.2 <= psi < 1.0, psi
    assert (report["status"], report["severe_features"]) == ("warning", [])
    # The factor is a threshold like the others.
    strict = shifted_report(0.6, DriftThresholds(severe_factor=psi / 0.2 * 0.9))
    assert strict["status"] == "critical"


def test_a_drift_headline_names_the_feature_its_psi_and_the_threshold():
    details = {
        "thresholds": {"psi": 0.2, "js_distance": 0.1},
        "features": {
            "mean_texture": {"psi": 0.31, "drifted": True},
            "mean_radius": {"psi": 1.3912, "drifted": True},
            "mean_area": {"psi": 0.05, "drifted": False},
        },
    }
    headline = check_headline("drift", "Data drift", "critical", 0.1, details)
    assert headline == "mean_radius drifted: PSI 1.39 > 0.20 (and 1 more feature)"


def test_a_categorical_or_output_drift_headline():
    details = {"features": {"plan": {"js_distance": 0.34, "drifted": True}}}
    assert check_headline("drift", "Data drift", "warning", 1.0, details) == (
        "plan drifted: JS distance 0.34 > 0.10"
    )
    outputs = {"features": {"score": {"psi": 0.5, "drifted": True}}}
    assert check_headline("prediction_drift", "Prediction drift", "warning", 1.0, outputs) == (
        "output score drifted: PSI 0.50 > 0.20"
    )


def test_a_performance_headline_names_the_metric_that_fell_furthest():
    details = {
        "metrics": {"auc": 0.8123, "accuracy": 0.9, "f1": 0.7},
        "reference": {"auc": 0.93, "accuracy": 0.91, "f1": 0.72},
    }
    assert check_headline("performance", "Performance", "critical", 0.81, details) == (
        "auc fell to 0.812 from 0.93 at validation"
    )
    regression = {"metrics": {"rmse": 12.34}, "reference": {"rmse": 8.1}}
    assert check_headline("performance", "Performance", "critical", 12.3, regression) == (
        "rmse rose to 12.3 from 8.1 at validation"
    )


def test_bias_and_health_headlines_and_the_fallback():
    bias = {"attributes": {"sex": {"flagged": True, "reasons": ["disparate impact 0.61 < 0.8"]}}}
    assert check_headline("bias", "Bias", "warning", 0.61, bias) == (
        "bias on sex: disparate impact 0.61 < 0.8"
    )
    health = {"cap": {"by": "Data drift", "band": "critical"}, "reasons": ["Data drift: x"]}
    assert check_headline("health", "Health", "critical", 49.0, health) == (
        "health 49/100: Data drift is critical"
    )
    assert check_headline("drift", "Data drift", "unknown", None, {}) == "Data drift unknown"
    assert "0.0333" not in check_headline("drift", "Data drift", "warning", 0.0333, {})
