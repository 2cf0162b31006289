"""A Celery worker for the real-worker documentation tests, started as a subprocess by
``test_documents_worker.py``. It is the project's worker with two test-only faults that the
tests switch on by creating files (named in the environment):

- ``STEWARD_TEST_FAIL_ONCE``: the next PDF rendering raises ``OSError`` (a transient error)
  and removes the file, so the retry succeeds;
- ``STEWARD_TEST_SLOW``: PDF rendering touches ``<file>.started`` and sleeps, so the test can
  kill the worker in the middle of a task.

Usage: python -m governance.tests.docs_worker <queue> <node name>"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")
django.setup()

from config.celery import app  # noqa: E402
from governance.documents import render  # noqa: E402

_original_pdf_render = render.pdf_render


def _faulty_pdf_render(html: str) -> bytes:
    fail_once = os.environ.get("STEWARD_TEST_FAIL_ONCE", "")
    if fail_once and os.path.exists(fail_once):
        os.remove(fail_once)
        raise OSError("injected transient failure (test)")
    slow = os.environ.get("STEWARD_TEST_SLOW", "")
    if slow and os.path.exists(slow):
        Path(slow + ".started").touch()
        time.sleep(120)
    return _original_pdf_render(html)


render.pdf_render = _faulty_pdf_render


def main() -> None:
    queue, node = sys.argv[1], sys.argv[2]
    # Messages of a killed worker come back once their visibility timeout has passed; the
    # worker looks for such messages every second instead of every ~100 s.
    app.conf.broker_transport_options = {
        "visibility_timeout": 4,
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
    app.conf.task_default_queue = queue
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
