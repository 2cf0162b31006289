"""Events sent at the same moment (Airflow sends a task's START and COMPLETE back to back, and
several tasks at once) on PostgreSQL: one run per runId, one dataset per name, no error."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection

from integrations.models import OpenLineageDataset
from integrations.openlineage.services import openlineage_event_ingest
from integrations.tests.builders import at, dataset, run_event
from registry.models import Dataset, Run
from tests.services import require_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LOANS = dataset("postgres://warehouse:5432", "lending.public.loans", columns=(("id", "INT"),))
SCORES = dataset("s3://features", "loan_scores", columns=(("score", "DOUBLE"),))


def test_a_runs_events_and_other_runs_sent_at_once_make_one_record_each(contributor):
    require_postgres()
    run_id = uuid.uuid4()
    others = [uuid.uuid4() for _ in range(3)]
    events = [
        run_event("START", run_id, time=at(0), inputs=[LOANS]),
        run_event("RUNNING", run_id, time=at(1), inputs=[LOANS]),
        run_event("COMPLETE", run_id, time=at(5), inputs=[LOANS], outputs=[SCORES]),
        run_event("COMPLETE", run_id, time=at(5), inputs=[LOANS], outputs=[SCORES]),
        *(
            run_event("COMPLETE", other, job=("etl", f"reader_{n}"), time=at(6), inputs=[LOANS])
            for n, other in enumerate(others)
        ),
    ]
    start = threading.Barrier(len(events))
    outcomes: list[object] = []
    lock = threading.Lock()

    def send(event: dict) -> None:
        try:
            start.wait()
            openlineage_event_ingest(actor=contributor, body=event)
            result: object = "ok"
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            result = exc
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=send, args=(event,)) for event in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert outcomes == ["ok"] * len(events)
    run = Run.objects.get(uuid=run_id)
    assert run.status == "completed" and run.started_at is not None
    assert run.output_datasets.count() == 1
    assert Run.objects.count() == 4
    assert OpenLineageDataset.objects.count() == Dataset.objects.count() == 2
