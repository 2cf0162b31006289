"""A Celery worker for the real-worker monitoring tests, started as a subprocess by
``test_worker.py``: the project's worker on one queue, with two changes for tests:

- the retry backoff of alert deliveries is shortened from up to 30 s to up to 1 s, so that a
  retry is seen within a test;
- the content-type cache is emptied before every task: after each transactional test the
  database is flushed and its content types created again with new ids, which a worker that
  outlives the test would otherwise still write (audit log entries point at them);
- ``STEWARD_TEST_SLOW_CHECK``: while the file it names exists, the bias check (the fourth of
  a run, after three results are stored) touches ``<file>.started`` and sleeps, so that a test
  can kill the worker in the middle of ``run_checks``;
- a killed worker's unacknowledged messages come back after 10 s instead of an hour.

Usage: python -m monitoring.tests.monitor_worker <queue> <node name>"""

from __future__ import annotations

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")
django.setup()

from django.conf import settings  # noqa: E402

# ``monitoring.tasks`` reads it when it is imported: that must not have happened yet.
if "monitoring.tasks" in sys.modules:
    raise RuntimeError("monitoring.tasks was imported before the test worker set its backoff")
settings.STEWARD_DELIVERY_RETRY_BACKOFF_SECONDS = 1

import time  # noqa: E402
from pathlib import Path  # noqa: E402

from celery.signals import task_prerun  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402

from config.celery import app  # noqa: E402
from monitoring.services import checks  # noqa: E402
from monitoring.tasks import deliver_alert  # noqa: E402

_original_bias_outcome = checks.bias_outcome


def _slow_bias_outcome(*args, **kwargs):
    slow = os.environ.get("STEWARD_TEST_SLOW_CHECK", "")
    if slow and os.path.exists(slow):
        Path(slow + ".started").touch()
        time.sleep(120)
    return _original_bias_outcome(*args, **kwargs)


checks.bias_outcome = _slow_bias_outcome


@task_prerun.connect
def _content_types_forget(**_) -> None:
    ContentType.objects.clear_cache()


def main() -> None:
    queue, node = sys.argv[1], sys.argv[2]
    print(f"deliver_alert retry_backoff={deliver_alert.retry_backoff}", flush=True)
    # Tasks the worker sends itself (deliveries after a check run, retries) stay on its queue.
    app.conf.task_default_queue = queue
    # Messages of a killed worker come back once their visibility timeout has passed; the
    # worker looks for such messages every second instead of every ~100 s.
    app.conf.broker_transport_options = {
        "visibility_timeout": 10,
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
    app.conf.result_expires = 600  # what the tests read of results, they read at once
    app.worker_main(
        [
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            f"--queues={queue}",
            f"--hostname={node}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )


if __name__ == "__main__":
    main()
