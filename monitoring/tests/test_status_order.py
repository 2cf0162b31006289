"""The one order of check statuses (``monitoring.stats.status``): unknown ranks below ok, so a
known status outranks it wherever statuses combine, and it never meets an alert threshold,
yet it does not resolve an open alert either. No database needed."""

from __future__ import annotations

import pytest

from monitoring.choices import CheckStatus, Severity
from monitoring.services.alerts.evaluation import condition_holds
from monitoring.services.alerts.observations import Observation
from monitoring.stats.health import HealthComponent, health_reasons, health_score
from monitoring.stats.status import STATUS_ORDER, Status, status_rank, status_worst

OK, WARNING, CRITICAL, UNKNOWN = "ok", "warning", "critical", "unknown"


def test_it_ranks_unknown_below_ok_and_critical_highest():
    assert [status_rank(s) for s in (UNKNOWN, OK, WARNING, CRITICAL)] == [0, 1, 2, 3]
    assert set(STATUS_ORDER) == set(Status) and set(Status) == set(CheckStatus.values)


def test_it_refuses_a_value_that_is_not_a_status():
    with pytest.raises(ValueError, match="unknown status 'bad'"):
        status_rank("bad")


@pytest.mark.parametrize(
    ("statuses", "worst"),
    [
        ((), UNKNOWN),
        ((UNKNOWN,), UNKNOWN),
        ((UNKNOWN, OK), OK),
        ((OK, UNKNOWN, WARNING), WARNING),
        ((WARNING, CRITICAL, UNKNOWN, OK), CRITICAL),
    ],
)
def test_the_worst_of_statuses_is_a_known_one_when_there_is_one(statuses, worst):
    assert status_worst(statuses) == worst


def test_health_lists_unknown_checks_after_failing_ones_and_scores_only_known_ones():
    components = [
        HealthComponent("bias", UNKNOWN, 1.0, "no attributes"),
        HealthComponent("drift", WARNING, 1.0, "income drifted"),
        HealthComponent("performance", CRITICAL, 1.0, "auc fell"),
        HealthComponent("kpi", OK, 1.0),
    ]
    assert health_reasons(components) == [
        "performance: auc fell",
        "drift: income drifted",
        "bias: no attributes",
    ]
    assert health_score(components)["cap"]["by"] == "performance"
    assert health_score([HealthComponent("bias", UNKNOWN)])["status"] == UNKNOWN


class Rule:
    """Just what ``condition_holds`` reads of a rule."""

    def __init__(self, min_status=WARNING, health_below=None):
        self.min_status, self.health_below = min_status, health_below


def observed(status, score=None):
    return Observation(status=status, score=score, headline="", label="", details={})


@pytest.mark.parametrize(
    ("status", "min_status", "holds"),
    [
        (CRITICAL, WARNING, True),
        (WARNING, WARNING, True),
        (WARNING, CRITICAL, False),
        (OK, WARNING, False),
        (UNKNOWN, WARNING, None),  # says nothing: neither opens nor resolves
        (UNKNOWN, CRITICAL, None),
    ],
)
def test_an_alert_threshold_follows_the_same_order(status, min_status, holds):
    assert condition_holds(Rule(min_status), observed(status)) is holds


def test_an_unknown_status_says_nothing_even_with_a_score_threshold():
    assert condition_holds(Rule(health_below=80), observed(UNKNOWN, score=10)) is None
    assert condition_holds(Rule(health_below=80), observed(WARNING, score=70)) is True


def test_severities_are_declared_least_to_most_severe():
    """``Severity.values`` is the order an alert's severity rises in and the dashboard lists
    alerts by (reversed)."""
    assert Severity.values == ["info", "warning", "critical"]
