"""Celery tasks of monitoring: thin wrappers over services, taking ids."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import InterfaceError, OperationalError

from monitoring.choices import CheckTrigger
from monitoring.services.delivery import DeliveryRetryable, delivery_attempt

# Attempts of one alert delivery: the first and up to DELIVERY_MAX_RETRIES retries, spaced
# about 30 s, 1, 2, 4 and 8 min (with jitter, never more than 30 min): a quarter of an hour.
DELIVERY_MAX_RETRIES = 5
# The first retry waits up to this many seconds, each next one up to twice as long (jitter picks
# the wait below that). Read at import, when Celery's autoretry fixes it; the real-worker tests
# (monitoring/tests/monitor_worker.py) shorten it.
DELIVERY_RETRY_BACKOFF = getattr(settings, "STEWARD_DELIVERY_RETRY_BACKOFF_SECONDS", 30)


@shared_task(
    name="monitoring.deliver_alert",
    bind=True,
    autoretry_for=(DeliveryRetryable,),
    retry_backoff=DELIVERY_RETRY_BACKOFF,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=DELIVERY_MAX_RETRIES,
    acks_late=True,
)
def deliver_alert(self, delivery_id: int) -> str:
    """Send one alert delivery and return its status; its row counts every attempt.

    In a worker, retryable failures (5xx, 408, 425, 429, no connection, timeouts) are retried
    with backoff, and the last attempt records the delivery as failed instead of raising.
    Idempotent: a delivery already sent is not sent again."""
    if self.request.is_eager:
        return _deliver_in_process(delivery_id, attempts=self.max_retries + 1)
    return delivery_attempt(delivery_id, final=self.request.retries >= self.max_retries)


def _deliver_in_process(delivery_id: int, *, attempts: int) -> str:
    """Without REDIS_URL tasks run eagerly, and with CELERY_TASK_EAGER_PROPAGATES Celery raises
    a retry instead of retrying; so the attempts are made here, one after the other and
    without waiting, and the last one records the outcome."""
    for _ in range(attempts - 1):
        try:
            return delivery_attempt(delivery_id)
        except DeliveryRetryable:
            continue
    return delivery_attempt(delivery_id, final=True)


# A database hiccup (a restart, a lost connection) is retried with backoff; acknowledged only
# once done, so a worker lost mid-task leaves it to another.
_DATABASE_RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 10,
    "retry_backoff_max": 600,
    "max_retries": 5,
    "acks_late": True,
}


# --- checks -----------------------------------------------------------------------------------


@shared_task(
    name="monitoring.run_checks",
    **_DATABASE_RETRY,
)
def run_checks(
    deployment_id: int,
    window_start: str,
    window_end: str,
    trigger: str = CheckTrigger.SCHEDULE,
    requested_by_id: int | None = None,
) -> list[int]:
    """Every check of one deployment over one window. Idempotent: results are unique per
    (deployment, kind, window), so a redelivered task stores nothing twice and opens no second
    alert."""
    from monitoring.models import Deployment
    from monitoring.services.checks import checks_run

    deployment = Deployment.objects.select_related("model_version__registered_model").get(
        pk=deployment_id
    )
    requested_by = None
    if requested_by_id is not None:
        requested_by = get_user_model().objects.filter(pk=requested_by_id).first()
    results = checks_run(
        deployment=deployment,
        window_start=datetime.fromisoformat(window_start),
        window_end=datetime.fromisoformat(window_end),
        trigger=trigger,
        requested_by=requested_by,
    )
    return [r.pk for r in results]


@shared_task(name="monitoring.schedule_checks", acks_late=True)
def schedule_checks() -> int:
    """Celery beat's entry point: fan the checks out, one ``run_checks`` task per active
    deployment and window (ending at the current whole hour), for any worker to take; windows
    already done or already queued are left out. Returns how many tasks were queued."""
    from monitoring.services.check_dispatch import checks_dispatch

    return len(checks_dispatch())


# --- the prediction log's partitions and retention ---------------------------------------------


@shared_task(name="monitoring.maintain_prediction_log", acks_late=True)
def maintain_prediction_log() -> dict:
    """Celery beat's daily tick for the prediction log: create the time partitions ahead
    (PostgreSQL; monitoring.partitions), then remove what retention lets go
    (monitoring.services.retention). Idempotent: a repeated tick creates and drops nothing
    more."""
    from monitoring.partitions import partitions_ensure
    from monitoring.services.retention import predictions_retention_apply

    created = partitions_ensure()
    outcome = predictions_retention_apply()
    return {
        "partitions_created": created,
        "partitions_dropped": [d["partition"] for d in outcome.dropped],
        "rows_removed": outcome.rows_removed,
    }


@shared_task(
    name="monitoring.remove_dropped_prediction_keys",
    **_DATABASE_RETRY,
)
def remove_dropped_prediction_keys() -> int:
    """After retention dropped a partition: remove the request-id keys of its rows, in batches
    (monitoring.partitions.dropped_keys_remove); returns how many. Idempotent: it removes only
    keys whose row is gone, so a redelivered or repeated task finds nothing more."""
    from monitoring.partitions import dropped_keys_remove

    return dropped_keys_remove()
