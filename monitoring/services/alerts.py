"""Alert channels and rules, and the alerts rules open from check results and KPI values.

Who may do what (one rule each, asked through ``registry.permissions``):

- **channels** of a team: whoever may deploy that team's models (the deploy verb in the team:
  the team's managers, global managers) and administrators (the global administrator role,
  superusers). Contributors hold "change" in their team but do not decide where alerts go.
- **rules**: the deploy verb on the rule's deployment or model (managers).
- **acknowledge** an alert: deploy or validate on its model (managers and validators: whoever
  looks into it). **Resolve** by hand: deploy. Who may not even see the model gets a 404.

Alerts open, count occurrences and resolve themselves from :func:`alerts_evaluate_check` and
:func:`alerts_evaluate_kpi`, which the check services call; no person acts, so their audit
events are signed by the ``steward-monitor`` account. Opening and resolving queue one delivery
per enabled channel of the rule, sent by ``monitoring.deliver_alert`` after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.access import team_scope
from accounts.choices import Verb
from accounts.models import Team, User
from accounts.services.system import system_user_monitor
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.eventlog import audit_event_append
from core.outbound import outbound_url_check
from core.outbox import task_request
from monitoring.choices import (
    AlertState,
    ChannelKind,
    CheckKind,
    CheckStatus,
    DeliveryEvent,
    Severity,
)
from monitoring.models import (
    Alert,
    AlertChannel,
    AlertDelivery,
    AlertRule,
    CheckResult,
    Deployment,
    Kpi,
    KpiValue,
)
from monitoring.permissions import may_manage_channels, require_any
from monitoring.stats.headline import check_headline
from registry.choices import VersionStatus
from registry.models import RegisteredModel

STATUS_RANK = {CheckStatus.OK: 0, CheckStatus.WARNING: 1, CheckStatus.CRITICAL: 2}
SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
RULE_STATUSES = (CheckStatus.WARNING, CheckStatus.CRITICAL)
CHANNEL_FIELDS = frozenset({"name", "kind", "target", "enabled"})
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
MIN_NOTE_LENGTH = 3


# --- Channels --------------------------------------------------------------------------------


def channel_target_clean(kind: str, target: str) -> str:
    """``target`` as stored for a channel of ``kind``, or InvalidInput: e-mail addresses
    comma-separated and each valid; Slack and webhook URLs accepted by the outbound policy."""
    _choice(kind, ChannelKind.values, "kind")
    target = (target or "").strip()
    if not target:
        raise InvalidInput("A channel needs a target.", field_errors={"target": ["Required."]})
    if kind == ChannelKind.EMAIL:
        addresses = [address.strip() for address in target.split(",") if address.strip()]
        bad = [address for address in addresses if not _is_email(address)]
        if bad or not addresses:
            message = f"Not an e-mail address: {', '.join(bad) or target}."
            raise InvalidInput(message, field_errors={"target": [message]})
        target = ", ".join(addresses)
    else:
        outbound_url_check(target)
    if len(target) > AlertChannel._meta.get_field("target").max_length:
        raise InvalidInput("The target is too long.", field_errors={"target": ["Too long."]})
    return target


def _is_email(address: str) -> bool:
    try:
        EmailValidator()(address)
    except ValidationError:
        return False
    return True


def channel_manager_require(actor: User, team: Team, *, existing: bool = False) -> None:
    """Refuse unless ``actor`` may manage ``team``'s channels (see the module docstring). For an
    existing channel, who may not even see the team's models gets a 404."""
    if may_manage_channels(actor, team):
        return
    viewers = team_scope(actor, Verb.VIEW)
    if existing and not (viewers.everywhere or team.pk in viewers.team_ids):
        raise NotFound("Alert channel not found.")
    raise Forbidden(
        f"Only managers of team '{team.slug}' and administrators manage its alert channels."
    )


@transaction.atomic
def alert_channel_create(
    *, actor: User, owner_team: Team, name: str, kind: str, target: str, enabled: bool = True
) -> AlertChannel:
    """Add a channel for ``owner_team``'s alerts. A webhook's signing secret is generated."""
    channel_manager_require(actor, owner_team)
    name = _name_clean(name)
    target = channel_target_clean(kind, target)
    if AlertChannel.objects.filter(owner_team=owner_team, name=name).exists():
        raise Conflict(f"Team '{owner_team.slug}' has a channel named '{name}'.")
    channel = AlertChannel.objects.create(
        owner_team=owner_team,
        name=name,
        kind=kind,
        target=target,
        enabled=bool(enabled),
        created_by=actor,
    )
    _channel_audit(actor, "alert_channel.create", channel)
    return channel


@transaction.atomic
def alert_channel_update(*, actor: User, channel: AlertChannel, **fields) -> AlertChannel:
    """Change a channel's ``name``, ``kind``, ``target`` or ``enabled``; the target is checked
    again. The owning team does not change."""
    _fields_known(fields, CHANNEL_FIELDS)
    channel = AlertChannel.objects.select_for_update().get(pk=channel.pk)
    channel_manager_require(actor, channel.owner_team, existing=True)
    before = _channel_data(channel)
    if "name" in fields:
        channel.name = _name_clean(fields["name"])
        others = AlertChannel.objects.filter(owner_team_id=channel.owner_team_id, name=channel.name)
        if others.exclude(pk=channel.pk).exists():
            raise Conflict(f"The team has a channel named '{channel.name}'.")
    if "kind" in fields or "target" in fields:
        kind = fields.get("kind", channel.kind)
        channel.target = channel_target_clean(kind, fields.get("target", channel.target))
        channel.kind = kind
    if "enabled" in fields:
        channel.enabled = bool(fields["enabled"])
    channel.save()
    _channel_audit(actor, "alert_channel.update", channel, before=before)
    return channel


@transaction.atomic
def alert_channel_delete(*, actor: User, channel: AlertChannel) -> None:
    """Delete a channel nothing was ever delivered to; one with deliveries is kept as part of
    the alerts' record (disable it instead)."""
    channel = AlertChannel.objects.select_for_update().get(pk=channel.pk)
    channel_manager_require(actor, channel.owner_team, existing=True)
    if channel.deliveries.exists():
        raise Conflict(f"Alerts were delivered to '{channel.name}': disable it instead.")
    _channel_audit(actor, "alert_channel.delete", channel)
    channel.delete()


def _channel_data(channel: AlertChannel) -> dict:
    # Slack and webhook URLs often carry a token in their path: the audit keeps the host only.
    target = channel.target
    if channel.kind != ChannelKind.EMAIL:
        target = target.split("://", 1)[-1].split("/", 1)[0]
    return {
        "name": channel.name,
        "kind": channel.kind,
        "target": target,
        "enabled": channel.enabled,
    }


def _channel_audit(actor, action: str, channel: AlertChannel, **extra) -> None:
    audit_event_append(
        actor=actor,
        action=action,
        subject=channel,
        data={"team": channel.owner_team.slug, **_channel_data(channel), **extra},
    )


# --- Rules -----------------------------------------------------------------------------------


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
    _fields_known(fields, RULE_FIELDS)
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
    _fields_known(values, RULE_FIELDS)
    model = _rule_subject_require(actor, deployment, registered_model)
    return _rule_values_clean(model, deployment, {**RULE_DEFAULTS, **values})


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
    check_kind = _choice(v["check_kind"], CheckKind.values, "check_kind")
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
        "name": _name_clean(v["name"]),
        "check_kind": check_kind,
        "kpi": kpi,
        "min_status": _choice(v["min_status"], RULE_STATUSES, "min_status"),
        "health_below": health_below,
        "severity": _choice(v["severity"], Severity.values, "severity"),
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


# --- Evaluation: results and KPI values open, count and clear alerts --------------------------


@dataclass(frozen=True)
class Observation:
    """What a rule is evaluated on: one check result or one KPI value, reduced to the same
    shape. ``details`` is what the alert stores of it."""

    status: str
    score: float | None
    headline: str
    label: str
    details: dict
    check_result: CheckResult | None = None
    kpi_value: KpiValue | None = None


def _observation_of_check(result: CheckResult) -> Observation:
    kind = CheckKind(result.kind).label
    score = "" if result.score is None else f", score {result.score:.3g}"
    return Observation(
        status=result.status,
        score=result.score,
        # What happened, in words and numbers ("mean_radius drifted: PSI 1.39 > 0.20").
        headline=check_headline(result.kind, kind, result.status, result.score, result.details),
        label=f"check #{result.pk} ({kind.lower()} {result.status}{score})",
        details={
            "check_result": result.pk,
            "kind": result.kind,
            "status": result.status,
            "score": result.score,
            "summary": result.summary,
            "window_end": result.window_end.isoformat(),
        },
        check_result=result,
    )


def _observation_of_kpi(value: KpiValue) -> Observation:
    kpi = value.kpi
    shown = f"{kpi.name} = {value.value:g}{kpi.unit}"
    return Observation(
        status=value.status,
        score=value.value,
        headline=f"KPI {shown} ({value.status})",
        label=f"KPI value #{value.pk} ({shown}, {value.status})",
        details={
            "kpi_value": value.pk,
            "kind": CheckKind.KPI,
            "kpi": kpi.name,
            "value": value.value,
            "status": value.status,
            "summary": shown,
            "measured_at": value.measured_at.isoformat(),
        },
        kpi_value=value,
    )


def alerts_evaluate_check(result: CheckResult) -> list[Alert]:
    """Apply every enabled rule for ``result``'s deployment and kind to it; return the alerts it
    opened, counted an occurrence on, or resolved. Called by the check services after storing
    a result, in their transaction: deliveries are queued for after its commit."""
    rules = _rules_for(result.deployment, result.kind).filter(kpi__isnull=True)
    return _evaluate(rules, result.deployment, _observation_of_check(result))


def alerts_evaluate_kpi(value: KpiValue) -> list[Alert]:
    """The same for a KPI value and the rules on that KPI."""
    rules = _rules_for(value.deployment, CheckKind.KPI).filter(kpi_id=value.kpi_id)
    return _evaluate(rules, value.deployment, _observation_of_kpi(value))


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


def condition_holds(rule: AlertRule, observation: Observation) -> bool | None:
    """Whether ``observation`` meets ``rule``; None when it says nothing (status unknown, or
    no score for a score threshold): such a result neither opens nor resolves an alert."""
    if observation.status not in STATUS_RANK:
        return None
    if rule.health_below is not None:
        return None if observation.score is None else observation.score < rule.health_below
    return STATUS_RANK[observation.status] >= STATUS_RANK[rule.min_status]


def _unresolved(rule: AlertRule, deployment: Deployment) -> Alert | None:
    alerts = Alert.objects.select_for_update().filter(rule=rule, deployment=deployment)
    return alerts.exclude(state=AlertState.RESOLVED).first()


def _alert_raise(rule: AlertRule, deployment: Deployment, observation: Observation) -> Alert:
    """Open an alert, or count one more occurrence of the unresolved one."""
    alert = _unresolved(rule, deployment)
    if alert is None:
        try:
            with transaction.atomic():  # a concurrent evaluation may open the same alert
                alert = _alert_open(rule, deployment, observation)
        except IntegrityError:
            alert = _unresolved(rule, deployment)
            if alert is None:
                raise
        else:
            _alert_opened(alert, rule, observation)
            return alert
    alert.occurrences += 1
    alert.last_seen_at = timezone.now()
    # The rule's severity may have been raised since the alert opened; it never falls.
    if SEVERITY_RANK[rule.severity] > SEVERITY_RANK[alert.severity]:
        alert.severity = rule.severity
    alert.details = {**alert.details, "latest": observation.details}
    alert.save(update_fields=["occurrences", "last_seen_at", "severity", "details"])
    _version_flag_if_asked(alert, rule, observation)
    return alert


def _alert_open(rule: AlertRule, deployment: Deployment, observation: Observation) -> Alert:
    now = timezone.now()
    return Alert.objects.create(
        rule=rule,
        deployment=deployment,
        severity=rule.severity,
        # The title says what happened first; the rule that caught it is named after it.
        title=f"{observation.headline} on {deployment.name} ({rule.name})"[:300],
        details={
            "condition": _condition_text(rule),
            "first": observation.details,
            "latest": observation.details,
        },
        check_result=observation.check_result,
        kpi_value=observation.kpi_value,
        opened_at=now,
        last_seen_at=now,
    )


def _condition_text(rule: AlertRule) -> str:
    if rule.health_below is not None:
        return f"health score below {rule.health_below:g}"
    subject = f"KPI {rule.kpi.name}" if rule.kpi_id else CheckKind(rule.check_kind).label
    return f"{subject} at least {rule.min_status}"


def _alert_opened(alert: Alert, rule: AlertRule, observation: Observation) -> None:
    _alert_audit(system_user_monitor(), "alert.open", alert, source=observation.label)
    _deliveries_queue(alert, rule, DeliveryEvent.OPENED)
    _version_flag_if_asked(alert, rule, observation)


def _alert_clear(rule: AlertRule, deployment: Deployment, observation: Observation):
    """Resolve the unresolved alert, if any, because ``observation`` no longer meets the rule."""
    alert = _unresolved(rule, deployment)
    if alert is None:
        return None
    alert.state = AlertState.RESOLVED
    alert.resolved_at = timezone.now()
    alert.resolved_by = None
    alert.resolution_note = f"Condition cleared by {observation.label}."
    alert.details = {**alert.details, "cleared_by": observation.details}
    alert.save(update_fields=["state", "resolved_at", "resolved_by", "resolution_note", "details"])
    _alert_audit(system_user_monitor(), "alert.resolve", alert, note=alert.resolution_note)
    _deliveries_queue(alert, rule, DeliveryEvent.RESOLVED)
    return alert


def _version_flag_if_asked(alert: Alert, rule: AlertRule, observation: Observation) -> None:
    """A critical alert of a rule with ``flag_version`` flags the version in production, once
    per alert (a manager who clears the flag is not overruled by the same alert's next
    occurrence)."""
    critical = Severity.CRITICAL in (alert.severity, observation.status)
    if not (rule.flag_version and critical) or "flag_decision" in alert.details:
        return
    version = alert.deployment.model_version
    version.refresh_from_db(fields=["status"])
    if version.status != VersionStatus.PRODUCTION:
        return
    from governance.services.transitions import version_flag_by_monitoring

    decision = version_flag_by_monitoring(
        version=version,
        motivation=f"Critical alert #{alert.pk} '{alert.title}' (rule '{rule.name}') on "
        f"deployment '{alert.deployment.name}', raised by {observation.label}.",
    )
    if decision is not None:
        alert.details = {**alert.details, "flag_decision": decision.pk}
        alert.save(update_fields=["details"])


def _deliveries_queue(alert: Alert, rule: AlertRule, event: str) -> None:
    """One delivery per enabled channel of the rule, sent after the commit."""
    for channel in rule.channels.all():
        if not channel.enabled:
            continue
        delivery, created = AlertDelivery.objects.get_or_create(
            alert=alert, channel=channel, event=event
        )
        if created:
            task_request("monitoring.deliver_alert", delivery.pk)


# --- Acknowledging and resolving by hand ------------------------------------------------------


@transaction.atomic
def alert_acknowledge(*, actor: User, alert: Alert, note: str = "") -> Alert:
    """Say that someone is looking into an open alert (managers, validators). Only an open
    alert can be acknowledged, once: a second acknowledgement is a 409."""
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    require_any(actor, (Verb.DEPLOY, Verb.VALIDATE), alert)
    if alert.state != AlertState.OPEN:
        raise Conflict(_state_refusal(alert, "acknowledged"))
    alert.state = AlertState.ACKNOWLEDGED
    alert.acknowledged_by = actor
    alert.acknowledged_at = timezone.now()
    alert.acknowledgement_note = (note or "").strip()
    alert.save(
        update_fields=["state", "acknowledged_by", "acknowledged_at", "acknowledgement_note"]
    )
    _alert_audit(actor, "alert.acknowledge", alert, note=alert.acknowledgement_note)
    return alert


@transaction.atomic
def alert_resolve(*, actor: User, alert: Alert, note: str) -> Alert:
    """Resolve an open or acknowledged alert by hand (managers), saying why. The channels are
    told. If the condition still holds, the next check opens a new alert."""
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    require_any(actor, (Verb.DEPLOY,), alert)
    note = (note or "").strip()
    if len(note) < MIN_NOTE_LENGTH:
        message = f"Say how it was resolved (at least {MIN_NOTE_LENGTH} characters)."
        raise InvalidInput(message, field_errors={"note": [message]})
    if alert.state == AlertState.RESOLVED:
        raise Conflict(_state_refusal(alert, "resolved"))
    alert.state = AlertState.RESOLVED
    alert.resolved_by = actor
    alert.resolved_at = timezone.now()
    alert.resolution_note = note
    alert.save(update_fields=["state", "resolved_by", "resolved_at", "resolution_note"])
    _alert_audit(actor, "alert.resolve", alert, note=note)
    _deliveries_queue(alert, alert.rule, DeliveryEvent.RESOLVED)
    return alert


def _state_refusal(alert: Alert, wanted: str) -> str:
    who = alert.acknowledged_by if alert.state == AlertState.ACKNOWLEDGED else alert.resolved_by
    by = f" by {who.get_username()}" if who else ""
    return f"Alert #{alert.pk} cannot be {wanted}: it is already {alert.state}{by}."


def _alert_audit(actor, action: str, alert: Alert, **extra) -> None:
    version = alert.deployment.model_version
    audit_event_append(
        actor=actor,
        action=action,
        subject=alert,
        scope_model=version.registered_model.name,
        scope_version=version.natural_key,
        data={
            "alert": alert.pk,
            "rule": alert.rule.name,
            "deployment": alert.deployment.name,
            "severity": alert.severity,
            "state": alert.state,
            **extra,
        },
    )


# --- Shared cleaning ---------------------------------------------------------------------------


def _name_clean(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100:
        message = "Give a name of 1 to 100 characters."
        raise InvalidInput(message, field_errors={"name": [message]})
    return name


def _choice(value: str, allowed, field: str) -> str:
    if value not in allowed:
        message = f"One of: {', '.join(allowed)}."
        raise InvalidInput(
            f"Unknown {field.replace('_', ' ')} '{value}'.", field_errors={field: [message]}
        )
    return value


def _fields_known(fields: dict, allowed: frozenset[str]) -> None:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise InvalidInput(f"These cannot be changed here: {', '.join(unknown)}.")
