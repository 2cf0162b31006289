"""Delivering alerts: to a real HTTP receiver on 127.0.0.1 (allowed for these tests only), by
e-mail through Django's test outbox, with retries, signatures and the outbound policy."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from core.tests.test_outbound import LocalReceiver
from monitoring.choices import ChannelKind, CheckStatus, DeliveryStatus
from monitoring.models import AlertDelivery
from monitoring.services.alerts import alerts_evaluate_check
from monitoring.tasks import DELIVERY_MAX_RETRIES, deliver_alert
from monitoring.tests.factories import (
    AlertChannelFactory,
    AlertRuleFactory,
    CheckResultFactory,
    DeploymentFactory,
)

pytestmark = pytest.mark.django_db
FAIL = (500, {}, b"upstream trouble")


@pytest.fixture(autouse=True)
def local_targets_allowed(settings):
    settings.STEWARD_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.STEWARD_BASE_URL = "https://steward.example.org"


@pytest.fixture
def receiver():
    with LocalReceiver() as receiver:
        yield receiver


def alert_delivery(channel) -> AlertDelivery:
    """A critical drift result opens an alert whose rule sends to ``channel``. The test runs in
    a transaction that never commits, so the delivery waits for the test to send it."""
    deployment = DeploymentFactory(name="credit-prod")
    AlertRuleFactory(name="drift critical", deployment=deployment, channels=[channel])
    result = CheckResultFactory(
        deployment=deployment, status=CheckStatus.CRITICAL, summary="3 of 12 features drifted"
    )
    alerts_evaluate_check(result)
    return AlertDelivery.objects.get(channel=channel)


def run(delivery: AlertDelivery) -> AlertDelivery:
    """Run the task as a worker would, retries included (at once: Celery's eager apply)."""
    deliver_alert.apply(args=[delivery.pk])
    delivery.refresh_from_db()
    return delivery


def webhook(team, receiver, **extra):
    return AlertChannelFactory(
        owner_team=team, kind=ChannelKind.WEBHOOK, target=receiver.url, **extra
    )


def test_it_retries_server_errors_until_the_receiver_accepts(team, receiver):
    receiver.script[:] = [FAIL, FAIL]
    delivery = run(alert_delivery(webhook(team, receiver)))

    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 3
    assert (delivery.response_code, delivery.error) == (200, "")
    assert delivery.delivered_at is not None
    assert len(receiver.requests) == 3
    ids = {r["headers"]["X-Steward-Delivery"] for r in receiver.requests}
    assert ids == {str(delivery.pk)}  # the same id on every retry: receivers deduplicate


def test_the_signature_verifies_with_the_channel_secret_only(team, receiver):
    channel = webhook(team, receiver)
    delivery = run(alert_delivery(channel))
    [request] = receiver.requests
    headers, body = request["headers"], request["body"]

    signed = headers["X-Steward-Timestamp"].encode() + b"." + body
    expected = hmac.new(channel.signing_secret.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Steward-Signature"], f"sha256={expected}")
    forged = hmac.new(b"not-the-secret", signed, hashlib.sha256).hexdigest()
    assert headers["X-Steward-Signature"] != f"sha256={forged}"
    assert headers["X-Steward-Event"] == "alert.opened"

    payload = json.loads(body)
    alert = delivery.alert
    assert payload["alert"]["id"] == alert.pk
    assert payload["alert"]["url"] == f"https://steward.example.org/monitoring/alerts/{alert.pk}/"
    assert payload["deployment"]["name"] == "credit-prod"
    assert payload["deployment"]["environment"] == "production"
    assert payload["model"]["version"] == alert.deployment.model_version.version
    assert payload["rule"]["name"] == "drift critical"
    assert payload["check"] == {
        "kind": "drift",
        "status": "critical",
        "summary": "3 of 12 features drifted",
        "score": None,
    }


def test_a_client_error_is_final_and_not_retried(team, receiver):
    receiver.script[:] = [(404, {}, b"no such hook")]
    delivery = run(alert_delivery(webhook(team, receiver)))

    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert delivery.response_code == 404
    assert delivery.error == "HTTP 404: no such hook"
    assert len(receiver.requests) == 1


def test_a_redirect_is_a_final_failure_and_is_not_followed(team, receiver):
    receiver.script[:] = [(302, {"Location": "http://169.254.169.254/latest/"}, b"")]
    delivery = run(alert_delivery(webhook(team, receiver)))

    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert "redirects are never followed" in delivery.error
    assert len(receiver.requests) == 1


def test_it_gives_up_after_the_last_retry_and_says_why(team, receiver):
    receiver.script[:] = [FAIL] * 10
    delivery = alert_delivery(webhook(team, receiver))
    outcome = deliver_alert.apply(args=[delivery.pk])
    delivery.refresh_from_db()

    assert outcome.get() == DeliveryStatus.FAILED
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 1 + DELIVERY_MAX_RETRIES
    assert delivery.error == "HTTP 500: upstream trouble"
    assert len(receiver.requests) == 1 + DELIVERY_MAX_RETRIES


def test_a_target_the_policy_refuses_fails_without_sending_anything(team, receiver, settings):
    delivery = alert_delivery(webhook(team, receiver))
    settings.STEWARD_OUTBOUND_ALLOWED_HOSTS = []  # 127.0.0.1 is no longer allowed
    delivery = run(delivery)

    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert delivery.error.startswith("Target refused by the outbound policy")
    assert receiver.requests == []


def test_a_delivery_already_sent_is_not_sent_again(team, receiver):
    delivery = run(alert_delivery(webhook(team, receiver)))
    assert delivery.status == DeliveryStatus.SENT

    assert deliver_alert.apply(args=[delivery.pk]).get() == DeliveryStatus.SENT
    delivery.refresh_from_db()
    assert len(receiver.requests) == 1
    assert delivery.attempts == 1


def test_an_email_channel_sends_one_message_to_every_address(team, mailoutbox):
    channel = AlertChannelFactory(owner_team=team, target="risk@example.org, oncall@example.org")
    delivery = run(alert_delivery(channel))

    assert delivery.status == DeliveryStatus.SENT
    [message] = mailoutbox
    assert message.to == ["risk@example.org", "oncall@example.org"]
    # The title says what happened, where and by which rule (monitoring/stats/headline.py).
    assert message.subject == (
        "[Steward] [WARNING] Alert opened: Data drift critical on credit-prod (drift critical)"
    )
    assert "credit-prod" in message.body
    assert f"/monitoring/alerts/{delivery.alert_id}/" in message.body


def test_a_slack_channel_gets_a_text_message(team, receiver):
    channel = AlertChannelFactory(owner_team=team, kind=ChannelKind.SLACK, target=receiver.url)
    delivery = run(alert_delivery(channel))

    assert delivery.status == DeliveryStatus.SENT
    payload = json.loads(receiver.requests[0]["body"])
    assert "Alert opened: Data drift critical on credit-prod (drift critical)" in payload["text"]
    assert f"/monitoring/alerts/{delivery.alert_id}/|" in payload["text"]


def test_no_answer_at_all_is_retried_then_failed(team, settings):
    with LocalReceiver() as gone:
        url = gone.url
    channel = AlertChannelFactory(owner_team=team, kind=ChannelKind.WEBHOOK, target=url)
    delivery = run(alert_delivery(channel))

    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 6)
    assert delivery.response_code is None
    assert "No answer from 127.0.0.1" in delivery.error


def test_the_delivery_is_sent_in_process_after_the_commit(
    team, receiver, django_capture_on_commit_callbacks
):
    """Without REDIS_URL tasks run eagerly: the commit that opens the alert sends it."""
    channel = webhook(team, receiver)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = alert_delivery(channel)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 1)
    assert len(receiver.requests) == 1


def test_in_a_worker_the_last_retry_records_the_failure_instead_of_raising(team, receiver):
    """A worker counts retries in the task's request: on the last one the task ends."""
    receiver.script[:] = [FAIL]
    delivery = alert_delivery(webhook(team, receiver))
    deliver_alert.push_request(id="worker-task", retries=DELIVERY_MAX_RETRIES, is_eager=False)
    try:
        assert deliver_alert.run(delivery.pk) == DeliveryStatus.FAILED
    finally:
        deliver_alert.pop_request()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
