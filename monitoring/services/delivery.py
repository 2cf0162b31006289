"""Alert deliveries: queueing one per channel when an alert opens or resolves
(:func:`deliveries_queue`), sending one (an alert opened or resolved, to one channel) and
recording how it went. ``monitoring.deliver_alert`` calls :func:`delivery_attempt` and retries
it when it raises :class:`DeliveryRetryable`.

Every kind of channel gets the same facts (see :func:`delivery_payload`): e-mail as a short
text message, Slack-compatible incoming webhooks as ``{"text": ...}``, and generic webhooks as
the JSON payload itself, signed.

**Verifying a webhook.** Each request carries::

    X-Steward-Event: alert.opened | alert.resolved
    X-Steward-Delivery: <delivery id>      (the same on every retry: deduplicate on it)
    X-Steward-Timestamp: <unix seconds when this attempt was signed>
    X-Steward-Signature: sha256=<hex>

where ``<hex>`` is ``HMAC-SHA256(key=channel signing secret (UTF-8), message=timestamp + "." +
raw request body)``. A receiver recomputes it over the raw body it received, compares with
``hmac.compare_digest`` and refuses timestamps older than a few minutes (replays).

Outcomes: a 2xx answer (or an e-mail handed to the mail server) is ``sent``. A 5xx, 408, 425 or
429 answer, no connection, a timeout or a mail-server hiccup is retryable: the row stays
``pending`` with the error until the last attempt, which marks it ``failed``. A redirect, any
other 4xx, or a target the outbound policy refuses is a final ``failed`` at once. A delivery
already sent is never sent again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import time

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from core.errors import InvalidInput
from core.outbound import OutboundUnavailable, outbound_post
from core.outbox import task_request
from monitoring.choices import ChannelKind, DeliveryEvent, DeliveryStatus
from monitoring.models import Alert, AlertDelivery, AlertRule

RETRYABLE_STATUS_CODES = frozenset({408, 425, 429})
MAX_ERROR_CHARS = 1000
# The Celery task that sends one delivery (monitoring.tasks.deliver_alert); queued tasks carry
# this name, so it does not change when code moves.
DELIVER_TASK = "monitoring.deliver_alert"


def deliveries_queue(alert: Alert, rule: AlertRule, event: str) -> None:
    """One delivery of ``event`` per enabled channel of ``rule``, sent after the commit. A
    delivery that exists already (the same alert, channel and event) is not queued again."""
    for channel in rule.channels.all():
        if not channel.enabled:
            continue
        delivery, created = AlertDelivery.objects.get_or_create(
            alert=alert, channel=channel, event=event
        )
        if created:
            task_request(DELIVER_TASK, delivery.pk)


class DeliveryFailed(Exception):
    """An attempt failed; ``response_code`` is the receiver's answer, if there was one."""

    def __init__(self, message: str, *, response_code: int | None = None):
        super().__init__(message)
        self.response_code = response_code


class DeliveryRetryable(DeliveryFailed):
    """The delivery failed for a reason that may pass: try again later."""


class DeliveryRefused(DeliveryFailed):
    """The delivery failed for a reason trying again will not fix."""


def delivery_attempt(delivery_id: int, *, final: bool = False) -> str:
    """Attempt delivery ``delivery_id`` once and return its status afterwards.

    Already sent: nothing is sent. Otherwise the attempt is counted before sending, then the
    outcome recorded. A retryable failure raises :class:`DeliveryRetryable` (after recording
    it), unless ``final`` says this is the last attempt: then the row becomes ``failed``.

    The row is not locked while sending (on SQLite that would hold the database's only write
    lock for the length of an HTTP call): two copies of the same task running at the same
    moment could both send. Receivers deduplicate on ``X-Steward-Delivery``."""
    delivery = _attempt_claim(delivery_id)
    if delivery is None:
        return DeliveryStatus.SENT
    try:
        code = _send(delivery)
    except DeliveryFailed as exc:
        retry = isinstance(exc, DeliveryRetryable) and not final
        status = DeliveryStatus.PENDING if retry else DeliveryStatus.FAILED
        status = _record(delivery, status=status, response_code=exc.response_code, error=str(exc))
        if status == DeliveryStatus.PENDING:
            raise
        return status
    return _record(delivery, status=DeliveryStatus.SENT, response_code=code, error="")


def _attempt_claim(delivery_id: int) -> AlertDelivery | None:
    """Count the attempt, unless the delivery is already sent (then None)."""
    with transaction.atomic():
        delivery = AlertDelivery.objects.select_for_update().get(pk=delivery_id)
        if delivery.status == DeliveryStatus.SENT:
            return None
        delivery.attempts += 1
        delivery.last_attempt_at = timezone.now()
        delivery.save(update_fields=["attempts", "last_attempt_at"])
    return AlertDelivery.objects.select_related(
        "channel",
        "alert__rule",
        "alert__deployment__model_version__registered_model",
    ).get(pk=delivery_id)


def _record(delivery: AlertDelivery, *, status: str, response_code: int | None, error: str) -> str:
    """Store the outcome. A copy of the task that already sent it is never overwritten."""
    fields = {"status": status, "response_code": response_code, "error": error[:MAX_ERROR_CHARS]}
    if status == DeliveryStatus.SENT:
        fields["delivered_at"] = timezone.now()
    updated = (
        AlertDelivery.objects.filter(pk=delivery.pk)
        .exclude(status=DeliveryStatus.SENT)
        .update(**fields)
    )
    return status if updated else DeliveryStatus.SENT


# --- What is sent --------------------------------------------------------------------------


def alert_url(alert_id: int) -> str:
    """The alert's page, absolute, under STEWARD_BASE_URL."""
    try:
        path = reverse("monitoring:alert-detail", args=[alert_id])
    except NoReverseMatch:  # the pages are not installed: the address they will have
        path = f"/monitoring/alerts/{alert_id}/"
    return getattr(settings, "STEWARD_BASE_URL", "").rstrip("/") + path


def delivery_payload(delivery: AlertDelivery) -> dict:
    """The facts every channel gets: the alert, where it happened, which rule, which check."""
    alert = delivery.alert
    deployment = alert.deployment
    version = deployment.model_version
    # A resolution reports the result that cleared the condition, if one did.
    cleared = delivery.event == DeliveryEvent.RESOLVED and "cleared_by" in alert.details
    latest = alert.details.get("cleared_by" if cleared else "latest", {})
    return {
        "event": f"alert.{delivery.event}",
        "delivery": delivery.pk,
        "alert": {
            "id": alert.pk,
            "title": alert.title,
            "severity": alert.severity,
            "state": alert.state,
            "opened_at": alert.opened_at.isoformat(),
            "last_seen_at": alert.last_seen_at.isoformat(),
            "occurrences": alert.occurrences,
            "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
            "resolution_note": alert.resolution_note,
            "url": alert_url(alert.pk),
        },
        "deployment": {
            "name": deployment.name,
            "environment": deployment.environment,
            "mode": deployment.mode,
        },
        "model": {"name": version.registered_model.name, "version": version.version},
        "rule": {
            "id": alert.rule_id,
            "name": alert.rule.name,
            "condition": alert.details.get("condition", ""),
        },
        "check": {
            "kind": latest.get("kind", alert.rule.check_kind),
            "status": latest.get("status"),
            "summary": latest.get("summary", ""),
            "score": latest.get("score", latest.get("value")),
        },
    }


def _headline(payload: dict) -> str:
    alert = payload["alert"]
    what = "resolved" if payload["event"] == "alert.resolved" else "opened"
    return f"[{alert['severity'].upper()}] Alert {what}: {alert['title']}"


def _text_lines(payload: dict) -> list[str]:
    alert, check = payload["alert"], payload["check"]
    deployment, model = payload["deployment"], payload["model"]
    lines = [
        f"Deployment: {deployment['name']} ({deployment['environment']}, {deployment['mode']})",
        f"Model: {model['name']} version {model['version']}",
        f"Rule: {payload['rule']['name']} ({payload['rule']['condition']})",
        f"Check: {check['kind']} {check['status'] or ''} {check['summary'] or ''}".rstrip(),
        f"Opened: {alert['opened_at']}; occurrences: {alert['occurrences']}",
    ]
    if alert["resolved_at"]:
        lines.append(f"Resolved: {alert['resolved_at']}. {alert['resolution_note']}")
    return lines


def _send(delivery: AlertDelivery) -> int | None:
    if not delivery.channel.enabled:
        raise DeliveryRefused("The channel was disabled before the alert could be sent.")
    payload = delivery_payload(delivery)
    kind = delivery.channel.kind
    if kind == ChannelKind.EMAIL:
        return _send_email(delivery, payload)
    if kind == ChannelKind.SLACK:
        body = {"text": _slack_text(payload)}
        return _post(delivery, json.dumps(body).encode(), {"Content-Type": "application/json"})
    return _send_webhook(delivery, payload)


def _send_email(delivery: AlertDelivery, payload: dict) -> None:
    recipients = [a.strip() for a in delivery.channel.target.split(",") if a.strip()]
    body = "\n".join([*_text_lines(payload), "", payload["alert"]["url"]])
    try:
        send_mail(
            " ".join(f"[Steward] {_headline(payload)}".split())[:250],  # no line breaks
            body,
            settings.DEFAULT_FROM_EMAIL,
            recipients,
            fail_silently=False,
        )
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
        raise DeliveryRefused(f"The mail server refused it: {exc}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryRetryable(f"Mail not sent: {exc}") from exc
    return None


def _slack_text(payload: dict) -> str:
    def escape(text: str) -> str:  # Slack's mrkdwn reserves only these three
        return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    lines = [f"*{escape(_headline(payload))}*", *(escape(line) for line in _text_lines(payload))]
    lines.append(f"<{payload['alert']['url']}|Open the alert in Steward>")
    return "\n".join(lines)


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Steward-Signature`` value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def _send_webhook(delivery: AlertDelivery, payload: dict) -> int:
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Steward-Event": payload["event"],
        "X-Steward-Delivery": str(delivery.pk),
        "X-Steward-Timestamp": timestamp,
        "X-Steward-Signature": webhook_signature(delivery.channel.signing_secret, timestamp, body),
    }
    return _post(delivery, body, headers)


def _post(delivery: AlertDelivery, body: bytes, headers: dict[str, str]) -> int:
    """POST through the outbound policy; sort the answer into sent, retryable or final."""
    timeout = float(getattr(settings, "STEWARD_OUTBOUND_TIMEOUT_SECONDS", 10))
    try:
        code, text = outbound_post(
            delivery.channel.target, body=body, headers=headers, timeout=timeout
        )
    except InvalidInput as exc:
        raise DeliveryRefused(f"Target refused by the outbound policy: {exc.message}") from exc
    except OutboundUnavailable as exc:
        raise DeliveryRetryable(str(exc)) from exc
    if 200 <= code < 300:
        return code
    message = f"HTTP {code}: {text}" if text else f"HTTP {code}"
    if code >= 500 or code in RETRYABLE_STATUS_CODES:
        raise DeliveryRetryable(message, response_code=code)
    raise DeliveryRefused(message, response_code=code)
