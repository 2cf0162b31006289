"""Model performance once ground truth has arrived: classification and regression metrics.

Rows where the truth or the prediction is missing (None, NaN) are left out and ``n`` counts
the rows used. A metric that is undefined on the data (precision with no predicted positive,
AUC with a single class, R² of a constant truth) is None rather than a made-up 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from monitoring.stats.values import (
    ColumnValues,
    column_array,
    json_float,
    json_scalar,
    lengths_check,
    missing_mask,
    numeric_with_gaps,
)


def classification_performance(
    y_true: ColumnValues,
    y_pred: ColumnValues,
    y_score: ColumnValues | None = None,
    positive_label: Any = None,
) -> dict[str, Any]:
    """n, accuracy, macro F1 over all labels, precision / recall / F1 of the positive label, and
    the AUC of ``y_score`` (the score of the positive label) when the truth has two classes.

    The positive label defaults to 1 when the labels are 0/1 or booleans; with other labels
    and none given, the positive-label metrics and the AUC are None.
    """
    truth, predicted = column_array(y_true), column_array(y_pred)
    scores = None if y_score is None else column_array(y_score)
    lengths_check(truth, predicted, scores)
    keep = ~(missing_mask(truth) | missing_mask(predicted))
    truth, predicted = truth[keep], predicted[keep]
    scores = None if scores is None else scores[keep]
    labels, codes = np.unique(np.concatenate((truth, predicted)), return_inverse=True)
    n = len(truth)
    truth_codes, predicted_codes = codes[:n], codes[n:]
    positive_label = positive_label_resolve(labels, positive_label)
    positive = None if positive_label is None else label_index(labels, positive_label)
    result: dict[str, Any] = {
        "n": n,
        "classes": len(labels),
        "positive_label": json_scalar(positive_label),
        "accuracy": float(np.mean(truth_codes == predicted_codes)) if n else None,
        "macro_f1": macro_f1(truth_codes, predicted_codes, len(labels)),
        **positive_metrics(truth_codes, predicted_codes, positive),
        "auc": None,
    }
    if scores is not None and positive is not None:
        result["auc"] = binary_auc(truth_codes == positive, scores, len(np.unique(truth_codes)))
    return result


def positive_label_resolve(labels: np.ndarray, positive_label: Any) -> Any:
    """The positive label: the one given, else 1 for 0/1 or boolean labels, else None."""
    if positive_label is None and set(labels.tolist()) <= {0, 1}:
        return True if labels.dtype.kind == "b" else 1
    return positive_label


def label_index(labels: np.ndarray, label: Any) -> int:
    """Where ``label`` sits among ``labels``; -1 (matching no row) when it never occurs, which
    still defines the metrics: nothing predicted positive, nothing truly positive."""
    matches = [index for index, value in enumerate(labels.tolist()) if value == label]
    return matches[0] if matches else -1


def macro_f1(truth: np.ndarray, predicted: np.ndarray, label_count: int) -> float | None:
    """Unweighted mean of the per-label F1 over every label seen in truth or prediction."""
    if len(truth) == 0:
        return None
    true_positive = np.bincount(truth[truth == predicted], minlength=label_count)
    actual = np.bincount(truth, minlength=label_count)
    predicted_count = np.bincount(predicted, minlength=label_count)
    # Each label occurs on one side at least, so the denominator is never zero.
    return float(np.mean(2 * true_positive / (actual + predicted_count)))


def positive_metrics(truth: np.ndarray, predicted: np.ndarray, positive: int | None) -> dict:
    """Precision, recall and F1 of the positive label against all others."""
    if positive is None:
        return {"precision": None, "recall": None, "f1": None}
    is_true, is_predicted = truth == positive, predicted == positive
    true_positive = int(np.sum(is_true & is_predicted))
    actual, flagged = int(np.sum(is_true)), int(np.sum(is_predicted))
    return {
        "precision": true_positive / flagged if flagged else None,
        "recall": true_positive / actual if actual else None,
        # 2TP / (2TP + FP + FN), which is defined even when precision is not.
        "f1": 2 * true_positive / (actual + flagged) if actual + flagged else None,
    }


def binary_auc(is_positive: np.ndarray, y_score: np.ndarray, truth_classes: int) -> float | None:
    """ROC AUC as the Mann-Whitney U of the scores (ties count one half); None unless the
    truth has exactly two classes, or once rows without a finite score leave only one."""
    if truth_classes != 2:
        return None
    scores = numeric_with_gaps(y_score)
    finite = np.isfinite(scores)
    scores, is_positive = scores[finite], is_positive[finite]
    positives = int(is_positive.sum())
    negatives = len(scores) - positives
    if positives == 0 or negatives == 0:
        return None
    ranks = stats.rankdata(scores)  # average ranks: a tie between classes counts 1/2
    rank_sum = float(ranks[is_positive].sum())
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def regression_performance(y_true: ColumnValues, y_pred: ColumnValues) -> dict[str, Any]:
    """n, RMSE, MAE and R² over the rows where both values are finite numbers."""
    truth, predicted = column_array(y_true), column_array(y_pred)
    lengths_check(truth, predicted)
    truth = numeric_with_gaps(truth)
    predicted = numeric_with_gaps(predicted)
    keep = np.isfinite(truth) & np.isfinite(predicted)
    truth, predicted = truth[keep], predicted[keep]
    n = len(truth)
    if n == 0:
        return {"n": 0, "rmse": None, "mae": None, "r2": None}
    errors = predicted - truth
    spread = float(np.sum((truth - truth.mean()) ** 2))
    return {
        "n": n,
        "rmse": json_float(np.sqrt(np.mean(errors**2))),
        "mae": json_float(np.mean(np.abs(errors))),
        "r2": json_float(1.0 - np.sum(errors**2) / spread) if n > 1 and spread > 0 else None,
    }
