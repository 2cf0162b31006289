"""An alert's life: opened, recurred, acknowledged, resolved. Each step changes the alert,
appends one ``AlertEvent`` row and one audit event in the same transaction, and queues the
deliveries it calls for (opening and resolving tell the rule's channels).

Evaluations open, count and clear alerts; no person acts, so their audit events are signed by
the ``steward-monitor`` account and their rows have no ``by``. People acknowledge (deploy or
validate on the model: managers and validators, whoever looks into it) and resolve by hand
(deploy); who may not even see the model gets a 404."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.access import may
from accounts.choices import Verb
from accounts.models import User
from accounts.services.system import system_user_monitor
from core.errors import Conflict, InvalidInput
from core.eventlog import audit_event_append
from governance.services.transitions import version_flag_by_monitoring
from monitoring.choices import AlertEventKind, AlertState, DeliveryEvent, Severity
from monitoring.models import Alert, AlertEvent, AlertRule, Deployment
from monitoring.permissions import require_any
from monitoring.services.alerts.observations import Observation
from monitoring.services.alerts.rules import condition_text
from monitoring.services.delivery import deliveries_queue
from registry.choices import VersionStatus

MIN_NOTE_LENGTH = 3


def alert_unresolved(rule: AlertRule, deployment: Deployment) -> Alert | None:
    """The open or acknowledged alert of ``rule`` on ``deployment``, locked, if there is one."""
    alerts = Alert.objects.select_for_update().filter(rule=rule, deployment=deployment)
    return alerts.exclude(state=AlertState.RESOLVED).first()


# --- What evaluations do ----------------------------------------------------------------------


def alert_open(*, rule: AlertRule, deployment: Deployment, observation: Observation) -> Alert:
    """Open an alert of ``rule`` on ``deployment`` because ``observation`` met it. Raises
    IntegrityError when another evaluation opened it first (one unresolved alert per rule and
    deployment): the caller counts an occurrence on that one instead."""
    now = timezone.now()
    alert = Alert.objects.create(
        rule=rule,
        deployment=deployment,
        severity=rule.severity,
        # The title says what happened first; the rule that caught it is named after it.
        title=f"{observation.headline} on {deployment.name} ({rule.name})"[:300],
        details={
            "condition": condition_text(rule),
            "first": observation.details,
            "latest": observation.details,
        },
        check_result=observation.check_result,
        kpi_value=observation.kpi_value,
        opened_at=now,
        last_seen_at=now,
    )
    _event_append(alert, AlertEventKind.OPENED, at=now, detail=observation.label)
    _alert_audit(system_user_monitor(), "alert.open", alert, source=observation.label)
    deliveries_queue(alert, rule, DeliveryEvent.OPENED)
    _version_flag_if_asked(alert, rule, observation)
    return alert


def alert_recur(*, alert: Alert, rule: AlertRule, observation: Observation) -> Alert:
    """Count one more occurrence of the unresolved ``alert`` (locked by the caller)."""
    now = timezone.now()
    alert.occurrences += 1
    alert.last_seen_at = now
    # The rule's severity may have been raised since the alert opened; it never falls.
    if Severity.values.index(rule.severity) > Severity.values.index(alert.severity):
        alert.severity = rule.severity
    alert.details = {**alert.details, "latest": observation.details}
    alert.save(update_fields=["occurrences", "last_seen_at", "severity", "details"])
    _event_append(alert, AlertEventKind.RECURRED, at=now, detail=observation.label)
    _version_flag_if_asked(alert, rule, observation)
    return alert


def alert_clear(*, alert: Alert, rule: AlertRule, observation: Observation) -> Alert:
    """Resolve the unresolved ``alert`` (locked by the caller) because ``observation`` no
    longer meets its rule."""
    alert.state = AlertState.RESOLVED
    alert.resolved_at = timezone.now()
    alert.resolved_by = None
    alert.resolution_note = f"Condition cleared by {observation.label}."
    alert.details = {**alert.details, "cleared_by": observation.details}
    alert.save(update_fields=["state", "resolved_at", "resolved_by", "resolution_note", "details"])
    _event_append(
        alert, AlertEventKind.RESOLVED, at=alert.resolved_at, detail=alert.resolution_note
    )
    _alert_audit(system_user_monitor(), "alert.resolve", alert, note=alert.resolution_note)
    deliveries_queue(alert, rule, DeliveryEvent.RESOLVED)
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
    decision = version_flag_by_monitoring(
        version=version,
        motivation=f"Critical alert #{alert.pk} '{alert.title}' (rule '{rule.name}') on "
        f"deployment '{alert.deployment.name}', raised by {observation.label}.",
    )
    if decision is not None:
        alert.details = {**alert.details, "flag_decision": decision.pk}
        alert.save(update_fields=["details"])


# --- What people do ---------------------------------------------------------------------------

# Who acknowledges an open alert (managers, validators), and who resolves one (managers).
ACKNOWLEDGE_VERBS = (Verb.DEPLOY, Verb.VALIDATE)
RESOLVE_VERBS = (Verb.DEPLOY,)


def can_acknowledge_alerts(user: User, deployment: Deployment) -> bool:
    """Whether :func:`alert_acknowledge` would accept ``user`` for ``deployment``'s alerts."""
    return any(may(user, verb, deployment) for verb in ACKNOWLEDGE_VERBS)


def can_resolve_alerts(user: User, deployment: Deployment) -> bool:
    """Whether :func:`alert_resolve` would accept ``user`` for ``deployment``'s alerts."""
    return any(may(user, verb, deployment) for verb in RESOLVE_VERBS)


@transaction.atomic
def alert_acknowledge(*, actor: User, alert: Alert, note: str = "") -> Alert:
    """Say that someone is looking into an open alert (managers, validators). Only an open
    alert can be acknowledged, once: a second acknowledgement is a 409."""
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    require_any(actor, ACKNOWLEDGE_VERBS, alert)
    if alert.state != AlertState.OPEN:
        raise Conflict(_state_refusal(alert, "acknowledged"))
    alert.state = AlertState.ACKNOWLEDGED
    alert.acknowledged_by = actor
    alert.acknowledged_at = timezone.now()
    alert.acknowledgement_note = (note or "").strip()
    alert.save(
        update_fields=["state", "acknowledged_by", "acknowledged_at", "acknowledgement_note"]
    )
    _event_append(
        alert,
        AlertEventKind.ACKNOWLEDGED,
        at=alert.acknowledged_at,
        by=actor,
        detail=alert.acknowledgement_note,
    )
    _alert_audit(actor, "alert.acknowledge", alert, note=alert.acknowledgement_note)
    return alert


@transaction.atomic
def alert_resolve(*, actor: User, alert: Alert, note: str) -> Alert:
    """Resolve an open or acknowledged alert by hand (managers), saying why. The channels are
    told. If the condition still holds, the next check opens a new alert."""
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    require_any(actor, RESOLVE_VERBS, alert)
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
    _event_append(alert, AlertEventKind.RESOLVED, at=alert.resolved_at, by=actor, detail=note)
    _alert_audit(actor, "alert.resolve", alert, note=note)
    deliveries_queue(alert, alert.rule, DeliveryEvent.RESOLVED)
    return alert


def _state_refusal(alert: Alert, wanted: str) -> str:
    who = alert.acknowledged_by if alert.state == AlertState.ACKNOWLEDGED else alert.resolved_by
    by = f" by {who.get_username()}" if who else ""
    return f"Alert #{alert.pk} cannot be {wanted}: it is already {alert.state}{by}."


# --- The record ---------------------------------------------------------------------------------


def _event_append(
    alert: Alert, kind: str, *, at, by: User | None = None, detail: str = ""
) -> AlertEvent:
    return AlertEvent.objects.create(alert=alert, kind=kind, at=at, by=by, detail=detail)


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
