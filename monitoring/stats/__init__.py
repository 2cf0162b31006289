"""Statistics of production monitoring, in numpy and scipy only (no Django here).

- ``baseline_profile_build``: a JSON profile of reference data, built once (``profile``);
- ``drift_report``: drift of a window of values against a profile (``drift``);
- ``classification_performance`` / ``regression_performance``: metrics against ground truth;
- ``bias_report``: selection and true positive rates across the groups of an attribute;
- ``health_score``: one score out of the statuses of the latest checks.

Every result is plain JSON (no NaN or infinity), ready to be stored as it is.
"""

from __future__ import annotations

from monitoring.stats.bias import BiasThresholds, bias_report
from monitoring.stats.drift import drift_report
from monitoring.stats.drift_common import DriftThresholds
from monitoring.stats.health import HealthComponent, health_score
from monitoring.stats.performance import classification_performance, regression_performance
from monitoring.stats.profile import baseline_profile_build
from monitoring.stats.status import Status

__all__ = [
    "BiasThresholds",
    "DriftThresholds",
    "HealthComponent",
    "Status",
    "baseline_profile_build",
    "bias_report",
    "classification_performance",
    "drift_report",
    "health_score",
    "regression_performance",
]
