"""The monitoring statistics on their own, without a database: each figure is checked against an
independent computation (numpy on the raw rows, scipy, scikit-learn or a hand count)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance
from sklearn import metrics

from monitoring.stats import (
    BiasThresholds,
    DriftThresholds,
    HealthComponent,
    baseline_profile_build,
    bias_report,
    classification_performance,
    drift_report,
    health_score,
    regression_performance,
)
from monitoring.stats import drift as drift_module
from monitoring.stats.drift_numeric import PSI_EPSILON
from monitoring.stats.profile import CATEGORY_LIMIT, OTHER, QUANTILE_COUNT

SEEDS = [11, 22, 33, 44, 55]
COLOURS = np.array(["red", "green", "blue", "black"], dtype=object)


def json_roundtrip(document: dict) -> dict:
    """What the database gives back: fails on NaN, infinity or a non-JSON type."""
    return json.loads(json.dumps(document, allow_nan=False))


def mixed_sample(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Features of varied shapes: skewed, heavy-tailed, discrete, zero-inflated, categorical."""
    zero_inflated = np.where(rng.random(n) < 0.4, 0.0, rng.exponential(3.0, n))
    tail = np.array([f"city-{i}" for i in range(150)], dtype=object)
    return {
        "normal": rng.normal(50.0, 10.0, n),
        "lognormal": rng.lognormal(0.0, 1.0, n),
        "uniform": rng.uniform(-1.0, 1.0, n),
        "student": rng.standard_t(3, n),
        "poisson": rng.poisson(4, n).astype(float),
        "zero_inflated": zero_inflated,
        "colour": COLOURS[rng.choice(4, n, p=[0.4, 0.3, 0.2, 0.1])],
        "city": tail[np.minimum(rng.geometric(0.03, n) - 1, 149)],
    }


def psi_from_raw(reference: np.ndarray, current: np.ndarray, interior: list[float]) -> float:
    """PSI computed from the raw rows with np.histogram on the same edges."""
    edges = np.concatenate(([-np.inf], interior, [np.inf]))
    expected = np.histogram(reference, edges)[0] / len(reference)
    actual = np.histogram(current, edges)[0] / len(current)
    expected, actual = np.maximum(expected, PSI_EPSILON), np.maximum(actual, PSI_EPSILON)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


# --- baseline profiles ---------------------------------------------------------------------------


def test_it_profiles_numeric_columns_as_json():
    rng = np.random.default_rng(1)
    values = rng.normal(5.0, 2.0, 10_000)
    profile = json_roundtrip(baseline_profile_build({"x": values}))
    feature = profile["features"]["x"]
    assert profile["row_count"] == 10_000
    assert feature["kind"] == "numeric"
    assert (feature["count"], feature["missing"]) == (10_000, 0)
    assert feature["mean"] == pytest.approx(values.mean())
    assert feature["std"] == pytest.approx(values.std())
    assert (feature["min"], feature["max"]) == (values.min(), values.max())
    assert len(feature["quantiles"]) == QUANTILE_COUNT
    assert feature["quantiles"][500] == pytest.approx(np.median(values))
    deciles = np.quantile(values, np.linspace(0.1, 0.9, 9))
    assert feature["bin_edges"][0] is None and feature["bin_edges"][-1] is None
    assert feature["bin_edges"][1:-1] == pytest.approx(deciles.tolist())
    assert len(feature["bin_fractions"]) == len(feature["bin_edges"]) - 1
    assert sum(feature["bin_fractions"]) == pytest.approx(1.0)


def test_it_infers_kinds_and_counts_missing_values():
    columns = {
        "floats": [1.5, None, float("nan"), 2.5],
        "ints": np.array([1, 2, 3, 4]),
        "strings": ["a", None, "b", float("nan")],
        "flags": np.array([True, False, True, True]),
        "empty": [None, None, None, None],
    }
    features = json_roundtrip(baseline_profile_build(columns))["features"]
    kinds = {name: feature["kind"] for name, feature in features.items()}
    assert kinds == {
        "floats": "numeric",
        "ints": "numeric",
        "strings": "categorical",
        "flags": "categorical",
        "empty": "categorical",
    }
    assert (features["floats"]["count"], features["floats"]["missing"]) == (2, 2)
    assert features["strings"]["frequencies"] == {"a": 1, "b": 1}
    assert features["strings"]["missing"] == 2
    assert features["flags"]["frequencies"] == {"True": 3, "False": 1}


def test_it_takes_declared_kinds_over_inference():
    profile = baseline_profile_build({"code": [1, 2, 2, 1.0]}, kinds={"code": "categorical"})
    assert profile["features"]["code"]["frequencies"] == {"1": 2, "2": 2}


def test_it_rejects_kinds_it_cannot_use():
    with pytest.raises(ValueError, match="not there"):
        baseline_profile_build({"a": [1.0]}, kinds={"b": "numeric"})
    with pytest.raises(ValueError, match="kinds must be one of"):
        baseline_profile_build({"a": [1.0]}, kinds={"a": "ordinal"})


def test_it_folds_the_long_tail_of_categories_into_other():
    values = [f"c{i:03d}" for i in range(150) for _ in range(150 - i)]
    frequencies = baseline_profile_build({"c": values})["features"]["c"]["frequencies"]
    assert len(frequencies) == CATEGORY_LIMIT + 1
    assert list(frequencies)[:2] == ["c000", "c001"]
    assert frequencies[OTHER] == sum(150 - i for i in range(CATEGORY_LIMIT, 150))
    assert sum(frequencies.values()) == len(values)


def test_it_profiles_an_all_missing_numeric_column_without_nan():
    profile = json_roundtrip(baseline_profile_build({"x": [None, np.nan]}, {"x": "numeric"}))
    feature = profile["features"]["x"]
    assert (feature["count"], feature["missing"], feature["mean"]) == (0, 2, None)
    assert feature["quantiles"] == feature["bin_edges"] == feature["bin_fractions"] == []


# --- numeric drift -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_it_computes_psi_as_histograms_of_the_raw_rows_would(seed):
    rng = np.random.default_rng(seed)
    reference, current = mixed_sample(rng, 30_000), mixed_sample(rng, 20_000)
    current["normal"] = current["normal"] * 1.3 + 4.0
    current["poisson"] = rng.poisson(5, 20_000).astype(float)
    profile = json_roundtrip(baseline_profile_build(reference))
    report = drift_report(profile, current)
    for name in ("normal", "lognormal", "uniform", "student", "poisson", "zero_inflated"):
        interior = profile["features"][name]["bin_edges"][1:-1]
        expected = psi_from_raw(reference[name], current[name], interior)
        assert report["features"][name]["psi"] == pytest.approx(expected, abs=1e-9), name


@pytest.mark.parametrize("seed", SEEDS)
def test_it_agrees_with_ks_2samp_on_the_raw_rows(seed):
    """The KS distance against the stored quantile grid is within 2/Q of the one on the raw
    reference rows, and the p-value (the limiting distribution, where scipy uses the finite-n
    one) within an order of magnitude wherever it is not vanishingly small."""
    rng = np.random.default_rng(seed)
    reference, current = mixed_sample(rng, 40_000), mixed_sample(rng, 8_000)
    current["uniform"] = current["uniform"] + 0.03
    current["student"] = current["student"] * 1.05
    profile = json_roundtrip(baseline_profile_build(reference))
    report = drift_report(profile, current)
    for name in ("normal", "lognormal", "uniform", "student", "poisson", "zero_inflated"):
        result = report["features"][name]
        raw = stats.ks_2samp(reference[name], current[name], method="asymp")
        assert abs(result["ks_statistic"] - raw.statistic) <= 2 / QUANTILE_COUNT, name
        if raw.pvalue > 1e-12:
            assert abs(math.log10(result["ks_p_value"]) - math.log10(raw.pvalue)) < 1, name


def test_it_flags_a_mean_shift_of_half_a_standard_deviation():
    rng = np.random.default_rng(7)
    reference, current = mixed_sample(rng, 50_000), mixed_sample(rng, 50_000)
    current["normal"] = current["normal"] + 5.0  # +0.5 std
    report = json_roundtrip(drift_report(baseline_profile_build(reference), current))
    shifted = report["features"]["normal"]
    assert shifted["drifted"] and shifted["evaluated"]
    assert shifted["psi"] >= 0.2 and shifted["ks_statistic"] >= 0.1
    assert "PSI" in shifted["reason"]
    assert report["drifted_features"] == ["normal"]
    assert report["status"] == "warning"
    assert report["drifted_share"] == pytest.approx(1 / 8)


def test_it_gives_both_histograms_for_the_page():
    rng = np.random.default_rng(3)
    profile = baseline_profile_build({"x": rng.normal(size=5_000)})
    result = drift_report(profile, {"x": rng.normal(1.0, 1.0, 5_000)})["features"]["x"]
    histogram = result["histogram"]
    assert histogram["bin_edges"] == profile["features"]["x"]["bin_edges"]
    assert histogram["reference"] == profile["features"]["x"]["bin_fractions"]
    assert len(histogram["current"]) == len(histogram["reference"])
    assert sum(histogram["current"]) == pytest.approx(1.0)
    assert histogram["current"][-1] > 0.3  # a third above the old top decile


def test_it_handles_a_constant_reference_column():
    """A constant column has degenerate bins (one edge at its value) and a one-step CDF."""
    profile = json_roundtrip(baseline_profile_build({"x": np.full(1_000, 3.0)}))
    feature = profile["features"]["x"]
    assert feature["bin_edges"] == [None, 3.0, None]
    assert feature["bin_fractions"] == [0.0, 1.0]
    same = drift_report(profile, {"x": np.full(500, 3.0)})["features"]["x"]
    assert (same["psi"], same["ks_statistic"], same["drifted"]) == (0.0, 0.0, False)
    lower = drift_report(profile, {"x": np.full(500, 2.0)})["features"]["x"]
    assert lower["drifted"] and lower["ks_statistic"] == 1.0
    higher = drift_report(profile, {"x": np.full(500, 4.0)})["features"]["x"]
    assert higher["drifted"] and higher["ks_statistic"] == 1.0


def test_it_ignores_missing_values_in_the_window():
    rng = np.random.default_rng(5)
    reference = rng.normal(size=20_000)
    profile = baseline_profile_build({"x": reference})
    clean = rng.normal(0.2, 1.0, 4_000)
    holed = np.concatenate((clean, [np.nan] * 100, [np.inf])).astype(object)
    holed[:50] = None
    report = json_roundtrip(drift_report(profile, {"x": holed}))
    result = report["features"]["x"]
    expected = drift_report(profile, {"x": clean[50:]})["features"]["x"]
    assert (result["count"], result["missing"]) == (3_950, 151)
    assert result["psi"] == pytest.approx(expected["psi"], abs=1e-12)
    assert result["ks_statistic"] == pytest.approx(expected["ks_statistic"], abs=1e-12)


def test_it_reports_an_all_missing_window_column_without_judging_it():
    profile = baseline_profile_build({"x": np.arange(1_000.0)})
    report = json_roundtrip(drift_report(profile, {"x": [None] * 300}))
    result = report["features"]["x"]
    assert (result["evaluated"], result["drifted"], result["missing"]) == (False, False, 300)
    assert result["reason"] == "no values in the window"
    assert report["status"] == "unknown"


def test_it_does_not_crash_on_text_in_a_numeric_column():
    profile = baseline_profile_build({"x": np.arange(1_000.0)})
    result = drift_report(profile, {"x": ["1.5", "oops"]})["features"]["x"]
    assert not result["evaluated"] and "not numbers" in result["reason"]


# --- categorical drift ---------------------------------------------------------------------------


def test_it_computes_chi_square_and_js_as_scipy_does_on_the_counts():
    rng = np.random.default_rng(9)
    reference = COLOURS[rng.choice(4, 20_000, p=[0.4, 0.3, 0.2, 0.1])]
    current = COLOURS[rng.choice(4, 5_000, p=[0.35, 0.3, 0.2, 0.15])]
    profile = json_roundtrip(baseline_profile_build({"c": reference}))
    result = drift_report(profile, {"c": current})["features"]["c"]
    categories = list(profile["features"]["c"]["frequencies"])
    table = np.array(
        [[np.sum(reference == c) for c in categories], [np.sum(current == c) for c in categories]]
    )
    chi2 = stats.chi2_contingency(table, correction=False)
    assert result["chi2_statistic"] == pytest.approx(chi2.statistic, rel=1e-12)
    assert result["chi2_p_value"] == pytest.approx(chi2.pvalue, rel=1e-9)
    assert result["chi2_dof"] == chi2.dof == 3
    expected_js = distance.jensenshannon(table[0] / 20_000, table[1] / 5_000, base=2)
    assert result["js_distance"] == pytest.approx(expected_js, rel=1e-12)
    assert result["frequencies"]["current"] == dict(zip(categories, table[1].tolist()))


def test_it_counts_unseen_categories_as_other():
    profile = baseline_profile_build({"c": ["a"] * 600 + ["b"] * 400})
    window = ["a"] * 300 + ["b"] * 200 + ["new"] * 80 + ["newer"] * 20
    result = json_roundtrip(drift_report(profile, {"c": window}))["features"]["c"]
    assert result["frequencies"]["current"] == {"a": 300, "b": 200, OTHER: 100}
    assert result["unseen"] == {"distinct": 2, "count": 100, "examples": ["new", "newer"]}
    table = np.array([[600, 400, 0], [300, 200, 100]])
    chi2 = stats.chi2_contingency(table, correction=False)
    assert result["chi2_statistic"] == pytest.approx(chi2.statistic)
    assert result["drifted"]


def test_it_flags_a_reweighted_category():
    rng = np.random.default_rng(12)
    reference, current = mixed_sample(rng, 50_000), mixed_sample(rng, 50_000)
    current["colour"] = COLOURS[rng.choice(4, 50_000, p=[0.2, 0.3, 0.2, 0.3])]
    report = drift_report(baseline_profile_build(reference), current)
    assert report["drifted_features"] == ["colour"]
    assert report["features"]["colour"]["js_distance"] >= 0.1


def test_it_needs_an_effect_size_beside_a_small_p_value():
    """On a big window a 1-point change of shares is significant yet not drift."""
    rng = np.random.default_rng(4)
    reference = COLOURS[rng.choice(4, 200_000, p=[0.4, 0.3, 0.2, 0.1])]
    current = COLOURS[rng.choice(4, 200_000, p=[0.39, 0.3, 0.2, 0.11])]
    result = drift_report(baseline_profile_build({"c": reference}), {"c": current})
    feature = result["features"]["c"]
    assert feature["chi2_p_value"] < 1e-6
    assert not feature["drifted"]
    assert result["status"] == "ok"


# --- the report ----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_it_finds_nothing_in_a_stable_stream(seed):
    rng = np.random.default_rng(seed)
    profile = json_roundtrip(baseline_profile_build(mixed_sample(rng, 50_000)))
    report = json_roundtrip(drift_report(profile, mixed_sample(rng, 50_000)))
    assert report["status"] == "ok"
    assert report["drifted_features"] == []
    assert report["evaluated_features"] == 8
    assert report["row_count"] == 50_000


def test_it_turns_critical_when_half_the_features_drift():
    rng = np.random.default_rng(8)
    profile = baseline_profile_build({"a": rng.normal(size=5_000), "b": rng.normal(size=5_000)})
    report = drift_report(profile, {"a": rng.normal(2, 1, 5_000), "b": rng.normal(size=5_000)})
    assert report["status"] == "critical"
    lenient = drift_report(
        profile,
        {"a": rng.normal(2, 1, 5_000), "b": rng.normal(size=5_000)},
        DriftThresholds(critical_share=0.75, severe_factor=100.0),
    )
    assert lenient["status"] == "warning"


def test_it_lets_callers_tighten_the_thresholds():
    rng = np.random.default_rng(10)
    profile = baseline_profile_build({"x": rng.normal(size=50_000)})
    window = {"x": rng.normal(0.1, 1.0, 50_000)}
    assert drift_report(profile, window)["status"] == "ok"
    strict = drift_report(profile, window, DriftThresholds(psi=0.005))
    assert strict["drifted_features"] == ["x"]
    assert strict["thresholds"]["psi"] == 0.005


def test_it_reports_absent_features_and_ignores_extra_columns():
    rng = np.random.default_rng(2)
    profile = baseline_profile_build({"a": rng.normal(size=1_000), "b": ["x", "y"] * 500})
    report = json_roundtrip(drift_report(profile, {"a": rng.normal(size=400), "z": [1] * 3}))
    assert report["missing_features"] == ["b"]
    assert report["features"]["b"] == {
        "kind": "categorical",
        "evaluated": False,
        "drifted": False,
        "reason": "absent from the window",
    }
    assert "z" not in report["features"]
    assert (report["row_count"], report["evaluated_features"], report["status"]) == (400, 1, "ok")


def test_it_reports_an_empty_window_as_unknown():
    rng = np.random.default_rng(2)
    profile = baseline_profile_build({"a": rng.normal(size=1_000), "b": ["x", "y"] * 500})
    report = json_roundtrip(drift_report(profile, {"a": np.array([]), "b": []}))
    assert (report["row_count"], report["status"], report["drifted_share"]) == (0, "unknown", 0.0)
    assert all(not feature["evaluated"] for feature in report["features"].values())


def test_it_does_not_judge_a_handful_of_values():
    profile = baseline_profile_build({"x": np.arange(10_000.0)})
    result = drift_report(profile, {"x": np.full(20, 1e6)})["features"]["x"]
    assert result["psi"] > 1 and not result["drifted"] and "too few" in result["reason"]


def test_it_refuses_window_columns_of_different_lengths():
    profile = baseline_profile_build({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    with pytest.raises(ValueError, match="same length"):
        drift_report(profile, {"a": [1.0], "b": [1.0, 2.0]})


# --- performance ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_it_scores_a_binary_classifier_as_sklearn_does(seed):
    rng = np.random.default_rng(seed)
    truth = rng.random(3_000) < 0.3
    score = np.round(np.clip(truth * 0.3 + rng.random(3_000) * 0.7, 0, 1), 1)  # many ties
    predicted = score >= 0.5
    result = json_roundtrip(classification_performance(truth, predicted, y_score=score))
    assert result["n"] == 3_000 and result["positive_label"] is True
    assert result["accuracy"] == pytest.approx(metrics.accuracy_score(truth, predicted))
    assert result["precision"] == pytest.approx(metrics.precision_score(truth, predicted))
    assert result["recall"] == pytest.approx(metrics.recall_score(truth, predicted))
    assert result["f1"] == pytest.approx(metrics.f1_score(truth, predicted))
    assert result["macro_f1"] == pytest.approx(metrics.f1_score(truth, predicted, average="macro"))
    assert result["auc"] == pytest.approx(metrics.roc_auc_score(truth, score), rel=1e-12)


def test_it_takes_a_positive_label_for_text_labels():
    rng = np.random.default_rng(6)
    truth = np.array(["no", "yes"], dtype=object)[rng.integers(0, 2, 500)]
    predicted = np.array(["no", "yes"], dtype=object)[rng.integers(0, 2, 500)]
    score = rng.random(500)
    result = classification_performance(truth, predicted, score, positive_label="yes")
    assert result["precision"] == pytest.approx(
        metrics.precision_score(truth, predicted, pos_label="yes")
    )
    assert result["f1"] == pytest.approx(metrics.f1_score(truth, predicted, pos_label="yes"))
    assert result["auc"] == pytest.approx(metrics.roc_auc_score(truth == "yes", score))
    unlabelled = classification_performance(truth, predicted, score)
    assert unlabelled["precision"] is unlabelled["auc"] is None
    assert unlabelled["accuracy"] == result["accuracy"]


def test_it_scores_a_multiclass_classifier_with_macro_f1():
    rng = np.random.default_rng(13)
    truth = rng.integers(0, 4, 2_000)
    predicted = np.where(rng.random(2_000) < 0.6, truth, rng.integers(0, 5, 2_000))
    result = classification_performance(truth, predicted)
    assert result["classes"] == 5
    assert result["macro_f1"] == pytest.approx(metrics.f1_score(truth, predicted, average="macro"))
    assert result["accuracy"] == pytest.approx(metrics.accuracy_score(truth, predicted))
    assert result["precision"] is None


def test_it_leaves_undefined_classification_metrics_out():
    single = classification_performance([1, 1, 1], [1, 0, 1], y_score=[0.9, 0.2, 0.8])
    assert single["auc"] is None
    assert single["precision"] == 1.0 and single["recall"] == pytest.approx(2 / 3)
    nothing_flagged = classification_performance([0, 1, 0], [0, 0, 0], y_score=[0.1, 0.9, 0.3])
    assert nothing_flagged["precision"] is None
    assert nothing_flagged["recall"] == 0.0 and nothing_flagged["f1"] == 0.0
    assert nothing_flagged["auc"] == 1.0
    empty = json_roundtrip(classification_performance([], []))
    assert (empty["n"], empty["accuracy"], empty["macro_f1"]) == (0, None, None)


def test_it_drops_rows_without_truth_or_prediction():
    result = classification_performance([1, None, 0, 1, np.nan], [1, 1, 0, 0, 1])
    assert result["n"] == 3 and result["accuracy"] == pytest.approx(2 / 3)


@pytest.mark.parametrize("seed", SEEDS)
def test_it_scores_a_regressor_as_sklearn_does(seed):
    rng = np.random.default_rng(seed)
    truth = rng.normal(100, 15, 5_000)
    predicted = truth + rng.normal(2, 5, 5_000)
    result = json_roundtrip(regression_performance(truth, predicted))
    assert result["n"] == 5_000
    assert result["rmse"] == pytest.approx(math.sqrt(metrics.mean_squared_error(truth, predicted)))
    assert result["mae"] == pytest.approx(metrics.mean_absolute_error(truth, predicted))
    assert result["r2"] == pytest.approx(metrics.r2_score(truth, predicted))


def test_it_leaves_undefined_regression_metrics_out():
    constant = regression_performance([2.0, 2.0, 2.0], [1.0, 2.0, 3.0])
    assert constant["r2"] is None and constant["mae"] == pytest.approx(2 / 3)
    holed = regression_performance([1.0, None, 3.0, np.nan], [1.0, 5.0, 4.0, 1.0])
    assert (holed["n"], holed["rmse"]) == (2, pytest.approx(math.sqrt(0.5)))
    assert json_roundtrip(regression_performance([], [])) == {
        "n": 0,
        "rmse": None,
        "mae": None,
        "r2": None,
    }


# --- bias ----------------------------------------------------------------------------------------


def test_it_measures_bias_on_a_small_table_as_by_hand():
    """Group a: 10 rows, 6 selected, 5 truly positive of which 4 selected.
    Group b: 10 rows, 3 selected, 4 truly positive of which 2 selected."""
    groups = ["a"] * 10 + ["b"] * 10
    selected = [1, 1, 1, 1, 1, 1, 0, 0, 0, 0] + [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    truth = [1, 1, 1, 1, 0, 0, 1, 0, 0, 0] + [1, 1, 0, 0, 1, 1, 0, 0, 0, 0]
    thresholds = BiasThresholds(min_group_size=1, min_positives=1)
    report = json_roundtrip(bias_report(groups, selected, truth, "a", thresholds))
    assert report["groups"]["a"]["selection_rate"] == 0.6
    assert report["groups"]["b"]["selection_rate"] == 0.3
    assert report["groups"]["a"]["true_positive_rate"] == 0.8
    assert report["groups"]["b"]["true_positive_rate"] == 0.5
    assert report["demographic_parity_difference"] == pytest.approx(0.3)
    assert report["disparate_impact_ratio"] == pytest.approx(0.5)
    assert report["disparate_impact_ratio_vs_reference"] == pytest.approx(0.5)
    assert report["equal_opportunity_difference"] == pytest.approx(0.3)
    assert report["flagged"] and report["status"] == "warning"
    assert len(report["reasons"]) == 4
    assert report["selection_rate_extremes"] == {"lowest": "b", "highest": "a"}


@pytest.mark.parametrize("seed", SEEDS)
def test_it_measures_bias_on_seeded_data_as_a_plain_loop_does(seed):
    rng = np.random.default_rng(seed)
    groups = np.array(["x", "y", "z"], dtype=object)[rng.choice(3, 6_000, p=[0.5, 0.3, 0.2])]
    truth = rng.random(6_000) < 0.4
    boost = np.select([groups == "x", groups == "y"], [0.1, 0.0], -0.1)
    selected = rng.random(6_000) < 0.3 + 0.4 * truth + boost
    report = bias_report(groups, selected, truth, reference_group="x")
    rates, tprs = {}, {}
    for group in ("x", "y", "z"):
        rows = [i for i in range(6_000) if groups[i] == group]
        rates[group] = sum(selected[i] for i in rows) / len(rows)
        positives = [i for i in rows if truth[i]]
        tprs[group] = sum(selected[i] for i in positives) / len(positives)
        assert report["groups"][group]["selection_rate"] == pytest.approx(rates[group])
        assert report["groups"][group]["true_positive_rate"] == pytest.approx(tprs[group])
    low, high = min(rates.values()), max(rates.values())
    assert report["demographic_parity_difference"] == pytest.approx(high - low)
    assert report["disparate_impact_ratio"] == pytest.approx(low / high)
    expected = min(rates["y"], rates["z"]) / rates["x"]
    assert report["disparate_impact_ratio_vs_reference"] == pytest.approx(expected)
    gap = max(tprs.values()) - min(tprs.values())
    assert report["equal_opportunity_difference"] == pytest.approx(gap)


def test_a_true_positive_rate_over_few_positives_is_not_judged():
    """Two groups of 100 rows with even selection; 12 known positives each (their diagnoses
    are still coming back): 10 of 12 against 12 of 12 found is a gap of 0.17, but over too few
    positives to flag. With 40 positives each the same gap is flagged."""
    groups = ["a"] * 100 + ["b"] * 100
    selected = [True] * 40 + [False] * 60 + [True] * 40 + [False] * 60
    few = [1.0] * 10 + [float("nan")] * 30 + [1.0] * 2 + [float("nan")] * 58
    few += [1.0] * 12 + [float("nan")] * 88
    report = bias_report(groups, selected, few)
    assert report["groups"]["a"]["actual_positives"] == 12
    assert report["groups"]["a"]["true_positive_rate"] == pytest.approx(10 / 12)
    assert report["equal_opportunity_difference"] is None
    assert (report["flagged"], report["status"]) == (False, "ok")

    many = [1.0] * 35 + [0.0] * 5 + [1.0] * 5 + [0.0] * 55  # 35 of 40 found
    many += [1.0] * 40 + [0.0] * 60  # 40 of 40 found
    report = bias_report(groups, selected, many)
    assert report["equal_opportunity_difference"] == pytest.approx(1 - 35 / 40)
    assert report["flagged"] and report["status"] == "warning"


def test_it_passes_even_rates_and_skips_small_groups():
    groups = ["a"] * 100 + ["b"] * 100 + ["tiny"] * 5
    selected = ([True] * 50 + [False] * 50) * 2 + [False] * 5
    report = bias_report(groups, selected)
    assert report["groups"]["tiny"]["judged"] is False
    assert report["disparate_impact_ratio"] == 1.0
    assert (report["flagged"], report["status"], report["reasons"]) == (False, "ok", [])


def test_it_cannot_judge_bias_with_one_group():
    report = bias_report(["a"] * 50 + [None] * 3, [True] * 25 + [False] * 28, reference_group="b")
    assert (report["n"], report["missing"]) == (50, 3)
    assert report["status"] == "unknown"
    assert report["disparate_impact_ratio"] is None
    assert report["disparate_impact_ratio_vs_reference"] is None


# --- health --------------------------------------------------------------------------------------


def test_it_weighs_known_components_into_one_score():
    components = [
        HealthComponent("drift", "ok", weight=2.0),
        HealthComponent("performance", "warning", reason="accuracy 0.81 < 0.85"),
        HealthComponent("bias", "critical", reason="disparate impact ratio 0.6 < 0.8"),
        HealthComponent("kpi", "unknown", reason="no value reported"),
    ]
    result = json_roundtrip(health_score(components))
    # The mean, 65, would read as a warning: the critical bias check caps it at 49.
    assert result["cap"]["mean"] == pytest.approx((2 * 100 + 60 + 0) / 4)
    assert (result["score"], result["cap"]["by"], result["cap"]["band"]) == (49, "bias", "critical")
    assert result["status"] == "critical"
    assert result["reasons"] == [
        "bias: disparate impact ratio 0.6 < 0.8",
        "performance: accuracy 0.81 < 0.85",
        "kpi: no value reported",
    ]


def test_it_has_no_score_when_nothing_is_known():
    result = health_score([HealthComponent("drift", "unknown")])
    assert (result["score"], result["status"]) == (None, "unknown")
    assert health_score([])["score"] is None


def test_it_refuses_an_unknown_status():
    with pytest.raises(ValueError, match="unknown status"):
        HealthComponent("drift", "fine")


def test_numeric_features_judged_on_threads_give_the_report_one_thread_gives(monkeypatch):
    rng = np.random.default_rng(7)
    reference = {f"n{i}": rng.normal(0, 1, 5_000) for i in range(6)}
    reference["plan"] = rng.choice(["a", "b", "c"], 5_000).astype(object)
    window = {f"n{i}": rng.normal(0.1 * i, 1, 4_000) for i in range(6)}
    window["plan"] = rng.choice(["a", "b", "c", "d"], 4_000).astype(object)
    window["n2"][:100] = np.nan
    profile = json_roundtrip(baseline_profile_build(reference))
    monkeypatch.setattr(drift_module, "_POOL_THREADS", 4)
    threaded = drift_report(profile, window)
    monkeypatch.setattr(drift_module, "_POOL_THREADS", 1)
    single = drift_report(profile, window)
    assert json.dumps(threaded) == json.dumps(single)
    assert list(threaded["features"]) == list(profile["features"])  # the profile's order
    assert threaded["drifted_features"] == ["n3", "n4", "n5", "plan"]
