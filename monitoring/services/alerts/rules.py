"""Alert rules: what to watch (a check kind or one KPI, of one deployment or of every
deployment of a model), when it alerts, how severely and through which channels.

The deploy verb on the rule's deployment or model (managers) is needed to manage them. A rule
that opened alerts is kept with them: it can be disabled, not deleted."""

from __future__ import annotations

from django.db import transaction

from accounts.choices import Verb
from accounts.models import User
from core.errors import Conflict, InvalidInput
from core.eventlog import audit_event_append
from monitoring.choices import CheckKind, CheckStatus, Severity
from monitoring.models import AlertRule, Deployment, Kpi
from monitoring.permissions import require_any
from monitoring.services.alerts.cleaning import choice_clean, fields_known_require, name_clean
from registry.models import RegisteredModel

RULE_STATUSES = (CheckStatus.WARNING, CheckStatus.CRITICAL)
RULE_FIELDS = frozenset(
    {
        "name",
        "check_kind",
        "kpi",
        "min_status",
        "health_below",
        "severity",
        "channels",
        "flag_version",
        "enabled",
    }
)
RULE_DEFAULTS = {
    "kpi": None,
    "min_status": CheckStatus.CRITICAL,
    "health_below": None,
    "severity": Severity.WARNING,
    "channels": (),
    "flag_version": False,
    "enabled": True,
}


@transaction.atomic
def alert_rule_create(
    *,
    actor: User,
    name: str,
    check_kind: str,
    deployment: Deployment | None = None,
    registered_model: RegisteredModel | None = None,
    kpi: Kpi | None = None,
    min_status: str = CheckStatus.CRITICAL,
    health_below: float | None = None,
    severity: str = Severity.WARNING,
    channels=(),
    flag_version: bool = False,
    enabled: bool = True,
) -> AlertRule:
    """Watch ``check_kind`` results (or one KPI) of a deployment, or of every deployment of a
    model. Needs the deploy verb on it; the channels must be the model's team's."""
    model = _rule_subject_require(actor, deployment, registered_model)
    if deployment is not None and not deployment.is_active:
        raise Conflict(f"Deployment '{deployment.name}' is retired.")
    values = _rule_values_clean(
        model,
        deployment,
        {
            "name": name,
            "check_kind": check_kind,
            "kpi": kpi,
            "min_status": min_status,
            "health_below": health_below,
            "severity": severity,
            "channels": channels,
            "flag_version": flag_version,
            "enabled": enabled,
        },
    )
    channels = values.pop("channels")
    rule = AlertRule.objects.create(
        deployment=deployment, registered_model=registered_model, created_by=actor, **values
    )
    rule.channels.set(channels)
    _rule_audit(actor, "alert_rule.create", rule, model)
    return rule


@transaction.atomic
def alert_rule_update(*, actor: User, rule: AlertRule, **fields) -> AlertRule:
    """Change any of ``RULE_FIELDS``; what it watches (deployment or model) does not change."""
    fields_known_require(fields, RULE_FIELDS)
    rule = AlertRule.objects.select_for_update().get(pk=rule.pk)
    model = _rule_subject_require(actor, rule.deployment, rule.registered_model)
    before = _rule_data(rule)
    current = {name: getattr(rule, name) for name in RULE_FIELDS - {"channels"}}
    current["channels"] = list(rule.channels.all())
    values = _rule_values_clean(model, rule.deployment, {**current, **fields})
    channels = values.pop("channels")
    for name, value in values.items():
        setattr(rule, name, value)
    rule.save()
    rule.channels.set(channels)
    _rule_audit(actor, "alert_rule.update", rule, model, before=before)
    return rule


@transaction.atomic
def alert_rule_delete(*, actor: User, rule: AlertRule) -> None:
    """Delete a rule that never opened an alert; alerts are evidence, so a rule with alerts is
    disabled instead."""
    rule = AlertRule.objects.select_for_update().get(pk=rule.pk)
    model = _rule_subject_require(actor, rule.deployment, rule.registered_model)
    if rule.alerts.exists():
        raise Conflict(f"Rule '{rule.name}' has opened alerts, which are kept: disable it.")
    _rule_audit(actor, "alert_rule.delete", rule, model)
    rule.delete()


def alert_rule_validate(
    *,
    actor: User,
    deployment: Deployment | None = None,
    registered_model: RegisteredModel | None = None,
    **values,
) -> dict:
    """Check a rule as :func:`alert_rule_create` would, without saving anything, and return
    its cleaned values; forms call it to show refusals on their fields."""
    fields_known_require(values, RULE_FIELDS)
    model = _rule_subject_require(actor, deployment, registered_model)
    return _rule_values_clean(model, deployment, {**RULE_DEFAULTS, **values})


def condition_text(rule: AlertRule) -> str:
    """The rule's condition in words ("Drift at least critical"), as an alert records it."""
    if rule.health_below is not None:
        return f"health score below {rule.health_below:g}"
    subject = f"KPI {rule.kpi.name}" if rule.kpi_id else CheckKind(rule.check_kind).label
    return f"{subject} at least {rule.min_status}"


def _rule_subject_require(
    actor: User, deployment: Deployment | None, registered_model: RegisteredModel | None
) -> RegisteredModel:
    if (deployment is None) == (registered_model is None):
        message = "A rule watches one deployment, or every deployment of one model: give one."
        raise InvalidInput(message, field_errors={"deployment": [message]})
    model = deployment.registered_model if deployment is not None else registered_model
    require_any(actor, (Verb.DEPLOY,), deployment or model)
    return model


def _rule_values_clean(model: RegisteredModel, deployment: Deployment | None, v: dict) -> dict:
    check_kind = choice_clean(v["check_kind"], CheckKind.values, "check_kind")
    kpi = v["kpi"]
    if (check_kind == CheckKind.KPI) != (kpi is not None):
        message = "A KPI rule needs check kind 'kpi' and a KPI; other rules have no KPI."
        raise InvalidInput(message, field_errors={"kpi": [message]})
    if kpi is not None:
        _kpi_of_target_check(kpi, model, deployment)
    health_below = v["health_below"]
    if health_below is not None:
        health_below = _health_threshold_clean(health_below, check_kind)
    channels = list(v["channels"] or ())
    foreign = [c.name for c in channels if c.owner_team_id != model.owner_team_id]
    if foreign:
        message = f"Channels of another team than the model's: {', '.join(foreign)}."
        raise InvalidInput(message, field_errors={"channels": [message]})
    return {
        "name": name_clean(v["name"]),
        "check_kind": check_kind,
        "kpi": kpi,
        "min_status": choice_clean(v["min_status"], RULE_STATUSES, "min_status"),
        "health_below": health_below,
        "severity": choice_clean(v["severity"], Severity.values, "severity"),
        "channels": channels,
        "flag_version": bool(v["flag_version"]),
        "enabled": bool(v["enabled"]),
    }


def _kpi_of_target_check(kpi: Kpi, model: RegisteredModel, deployment: Deployment | None) -> None:
    if kpi.deployment_id is not None:
        fits = kpi.deployment.registered_model.pk == model.pk and (
            deployment is None or kpi.deployment_id == deployment.pk
        )
    else:
        fits = kpi.registered_model_id == model.pk
    if not fits:
        message = f"KPI '{kpi.name}' is not measured for what this rule watches."
        raise InvalidInput(message, field_errors={"kpi": [message]})


def _health_threshold_clean(value, check_kind: str) -> float:
    if check_kind != CheckKind.HEALTH:
        message = "Only health rules have a score threshold."
        raise InvalidInput(message, field_errors={"health_below": [message]})
    try:
        value = float(value)
    except (TypeError, ValueError):
        value = -1.0
    if not 0 <= value <= 100:
        message = "The health threshold is a score from 0 to 100."
        raise InvalidInput(message, field_errors={"health_below": [message]})
    return value


def _rule_data(rule: AlertRule) -> dict:
    return {
        "name": rule.name,
        "deployment": rule.deployment.name if rule.deployment_id else None,
        "check_kind": rule.check_kind,
        "kpi": rule.kpi.name if rule.kpi_id else None,
        "min_status": rule.min_status,
        "health_below": rule.health_below,
        "severity": rule.severity,
        "channels": sorted(rule.channels.values_list("name", flat=True)) if rule.pk else [],
        "flag_version": rule.flag_version,
        "enabled": rule.enabled,
    }


def _rule_audit(actor, action: str, rule: AlertRule, model: RegisteredModel, **extra) -> None:
    audit_event_append(
        actor=actor,
        action=action,
        subject=rule,
        scope_model=model.name,
        data={**_rule_data(rule), **extra},
    )
