"""Applying the rules: each new check result or KPI value opens an alert, counts one more
occurrence of the unresolved one, or resolves it when the condition no longer holds.

The check services call :func:`alerts_evaluate_check` and :func:`alerts_evaluate_kpi` after
storing a result, in their transaction; what each outcome writes is
``monitoring.services.alerts.lifecycle``'s."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from monitoring.choices import CheckKind, CheckStatus
from monitoring.models import Alert, AlertRule, CheckResult, Deployment, KpiValue
from monitoring.services.alerts import lifecycle
from monitoring.services.alerts.observations import (
    Observation,
    observation_of_check,
    observation_of_kpi,
)
from monitoring.stats.status import status_rank


def alerts_evaluate_check(result: CheckResult) -> list[Alert]:
    """Apply every enabled rule for ``result``'s deployment and kind to it; return the alerts it
    opened, counted an occurrence on, or resolved. Deliveries are queued for after the commit."""
    rules = _rules_for(result.deployment, result.kind).filter(kpi__isnull=True)
    return _evaluate(rules, result.deployment, observation_of_check(result))


def alerts_evaluate_kpi(value: KpiValue) -> list[Alert]:
    """The same for a KPI value and the rules on that KPI."""
    rules = _rules_for(value.deployment, CheckKind.KPI).filter(kpi_id=value.kpi_id)
    return _evaluate(rules, value.deployment, observation_of_kpi(value))


def condition_holds(rule: AlertRule, observation: Observation) -> bool | None:
    """Whether ``observation`` meets ``rule``; None when it says nothing (status unknown, or
    no score for a score threshold): such a result neither opens nor resolves an alert.

    Unknown ranks below ok in the one status order, so it never meets a threshold; it is
    still set apart here, because "not met" would resolve an open alert."""
    if observation.status not in CheckStatus.values or observation.status == CheckStatus.UNKNOWN:
        return None
    if rule.health_below is not None:
        return None if observation.score is None else observation.score < rule.health_below
    return status_rank(observation.status) >= status_rank(rule.min_status)


def _rules_for(deployment: Deployment, check_kind: str) -> QuerySet[AlertRule]:
    model_id = deployment.model_version.registered_model_id
    return (
        AlertRule.objects.filter(enabled=True, check_kind=check_kind)
        .filter(Q(deployment=deployment) | Q(registered_model_id=model_id))
        .prefetch_related("channels")
        .order_by("pk")
    )


@transaction.atomic
def _evaluate(rules, deployment: Deployment, observation: Observation) -> list[Alert]:
    touched = []
    for rule in rules:
        holds = condition_holds(rule, observation)
        if holds is None:
            continue
        if holds:
            alert = _alert_raise(rule, deployment, observation)
        else:
            alert = _alert_clear(rule, deployment, observation)
        if alert is not None:
            touched.append(alert)
    return touched


def _alert_raise(rule: AlertRule, deployment: Deployment, observation: Observation) -> Alert:
    """Open an alert, or count one more occurrence of the unresolved one."""
    alert = lifecycle.alert_unresolved(rule, deployment)
    if alert is None:
        try:
            with transaction.atomic():  # a concurrent evaluation may open the same alert
                return lifecycle.alert_open(
                    rule=rule, deployment=deployment, observation=observation
                )
        except IntegrityError:
            alert = lifecycle.alert_unresolved(rule, deployment)
            if alert is None:
                raise
    return lifecycle.alert_recur(alert=alert, rule=rule, observation=observation)


def _alert_clear(rule: AlertRule, deployment: Deployment, observation: Observation):
    """Resolve the unresolved alert, if any, because ``observation`` no longer meets the rule."""
    alert = lifecycle.alert_unresolved(rule, deployment)
    if alert is None:
        return None
    return lifecycle.alert_clear(alert=alert, rule=rule, observation=observation)
