"""What ingestion stores is what the gateway sent: times with any offset, text with the
characters COPY's text format escapes, the time of receipt, on PostgreSQL's COPY path and
SQLite's inserts alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from monitoring.models import Prediction
from monitoring.services.ingestion import predictions_ingest
from monitoring.tests.test_monitoring_services import (  # noqa: F401 - fixtures
    _records,
    live,
    version,
)

pytestmark = pytest.mark.django_db

SENT_AT = {
    "r-0": "2026-01-31T12:00:00+05:30",
    "r-1": "2026-01-31T12:00:00.123456-08:00",
    "r-2": "2026-01-31T06:30:00Z",
    "r-3": "2026-01-31T12:00:00.5+00:00",
}


def test_it_stores_each_time_as_sent_and_one_time_of_receipt(live, gateway):  # noqa: F811
    records = _records(4, np.random.default_rng(21))
    for record in records:
        record["predicted_at"] = SENT_AT[record["request_id"]]
    records[1]["inputs"]["segment"] = 'tab\there, newline\nthere, back\\slash, "quoted", ü'
    records[2]["protected"] = {"note": "C:\\path\\to\tfile"}
    before = datetime.now(UTC)
    result = predictions_ingest(actor=gateway, deployment=live, records=records)
    assert result.accepted == 4
    logged = {p.request_id: p for p in Prediction.objects.all()}
    for request_id, sent in SENT_AT.items():
        assert logged[request_id].predicted_at == datetime.fromisoformat(sent)
    assert logged["r-0"].predicted_at == datetime(2026, 1, 31, 6, 30, tzinfo=UTC)
    assert logged["r-1"].predicted_at.astimezone(timezone(timedelta(hours=-8))).hour == 12
    assert logged["r-1"].inputs["segment"] == records[1]["inputs"]["segment"]
    assert logged["r-2"].protected == {"note": "C:\\path\\to\tfile"}
    received = {p.received_at for p in logged.values()}
    assert len(received) == 1
    assert before - timedelta(seconds=1) <= received.pop() <= datetime.now(UTC)
