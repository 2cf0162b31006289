"""A Celery worker for the RabbitMQ tests, started as a subprocess by
``test_rabbitmq_workers.py``: the project's worker on one queue, its broker the
STEWARD_BROKER_URL of its environment, with test-only changes:

- ``STEWARD_TEST_SLOW``: while the file it names exists, rendering a PDF and the bias check
  (the fourth check of a run, after three results are stored) write this process's id to
  ``<file>.started`` and sleep, so that the test knows which worker to kill in the middle of
  which task;
- ``STEWARD_TEST_DELAY``: while the file it names exists, the same steps wait the seconds it
  holds, so that a batch of short tasks lasts long enough to be shared between the workers;
- the content-type cache is emptied before every task (a transactional test's flush creates
  them again with new ids, which a worker that outlives the test would otherwise still use).

Usage: python -m tests.broker.broker_worker <queue> <node name>"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")
django.setup()

from celery.signals import task_prerun  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402

from config.celery import app  # noqa: E402
from governance.documents import render  # noqa: E402
from monitoring.services import checks  # noqa: E402


def _stall_while_asked() -> None:
    slow = os.environ.get("STEWARD_TEST_SLOW", "")
    if slow and os.path.exists(slow):
        Path(slow + ".started").write_text(str(os.getpid()))
        time.sleep(120)
    delay = os.environ.get("STEWARD_TEST_DELAY", "")
    if delay and os.path.exists(delay):
        time.sleep(float(Path(delay).read_text()))


def _slowed(original):
    def slowed(*args, **kwargs):
        _stall_while_asked()
        return original(*args, **kwargs)

    return slowed


render.pdf_render = _slowed(render.pdf_render)
checks.bias_outcome = _slowed(checks.bias_outcome)


@task_prerun.connect
def _content_types_forget(**_) -> None:
    ContentType.objects.clear_cache()


def main() -> None:
    queue, node = sys.argv[1], sys.argv[2]
    app.conf.task_default_queue = queue  # what the worker sends itself stays on its queue
    app.worker_main(
        [
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            f"--queues={queue}",
            f"--hostname={node}",
            "--without-gossip",
            "--without-mingle",
        ]
    )


if __name__ == "__main__":
    main()
