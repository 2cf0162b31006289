"""The transport over real sockets: what is retried and how long it waits, the
Idempotency-Key kept across attempts, and errors in Steward's words."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from steward_client.config import Settings
from steward_client.errors import ConnectionFailed, InvalidInput, ServerError
from steward_client.transport import Transport


def transport(url: str, waits: list[float], retries: int = 5) -> Transport:
    settings = Settings(url=url, token="stw_test")
    return Transport(settings, max_retries=retries, backoff=0.5, sleep=waits.append)


def test_it_waits_what_retry_after_says_then_succeeds(stub):
    answers = [(503, {"Retry-After": "7"}, {"message": "down"}), (200, {}, {"ok": True})]
    waits: list[float] = []
    with stub(answers) as server:
        assert transport(server.url, waits).json("GET", "me/") == {"ok": True}
    assert waits == [7.0]
    assert server.requests[0]["headers"]["Authorization"] == "Bearer stw_test"


def test_an_http_date_in_retry_after_is_understood(stub):
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    waits: list[float] = []
    with stub([(429, {"Retry-After": later}, {}), (200, {}, {})]) as server:
        transport(server.url, waits).json("GET", "models/")
    assert 25 < waits[0] <= 30


def test_without_retry_after_the_backoff_grows(stub):
    answers = [(502, {}, {}), (504, {}, {}), (503, {}, {}), (200, {}, {})]
    waits: list[float] = []
    with stub(answers) as server:
        transport(server.url, waits).json("GET", "models/")
    assert len(waits) == 3
    assert 0.25 <= waits[0] <= 0.5 and 0.5 <= waits[1] <= 1.0 and 1.0 <= waits[2] <= 2.0


def test_a_create_keeps_its_idempotency_key_across_attempts(stub):
    answers = [(502, {}, {}), (201, {}, {"version": 1})]
    with stub(answers) as server:
        transport(server.url, []).json(
            "POST", "runs/", json={"kind": "training"}, idempotency_key=True
        )
    keys = [r["headers"]["Idempotency-Key"] for r in server.requests]
    assert len(keys) == 2 and keys[0] == keys[1] and len(keys[0]) == 36


def test_a_post_without_a_key_is_not_repeated_after_a_502(stub):
    """A workflow decision the server may have taken: a 502 is not retried blindly."""
    with (
        stub([(502, {}, b"bad gateway"), (201, {}, {})]) as server,
        pytest.raises(ServerError, match="502"),
    ):
        transport(server.url, []).json("POST", "x/transitions/", json={})
    assert len(server.requests) == 1


def test_a_post_without_a_key_is_repeated_after_a_503_and_a_429(stub):
    answers = [(503, {"Retry-After": "0"}, {}), (429, {"Retry-After": "0"}, {}), (201, {}, {})]
    with stub(answers) as server:
        transport(server.url, []).json("POST", "x/transitions/", json={})
    assert len(server.requests) == 3


def test_a_duplicate_in_flight_is_waited_for(stub):
    busy = {"message": "still being served", "code": "idempotency_key_in_flight"}
    answers = [(409, {"Retry-After": "1"}, busy), (201, {}, {"id": 1})]
    waits: list[float] = []
    with stub(answers) as server:
        answer = transport(server.url, waits).json("POST", "runs/", json={}, idempotency_key="k")
    assert answer == {"id": 1} and waits == [1.0]


def test_the_retries_end_and_the_last_error_is_said(stub):
    with (
        stub([(503, {"Retry-After": "0"}, {"message": "Database unreachable."})] * 3) as server,
        pytest.raises(ServerError) as raised,
    ):
        transport(server.url, [], retries=2).json("GET", "models/")
    assert len(server.requests) == 3
    assert "Database unreachable. (HTTP 503" in str(raised.value)


def test_a_refused_connection_is_retried_then_reported(stub):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    waits: list[float] = []
    with pytest.raises(ConnectionFailed, match="connection refused.*3 attempts"):
        transport(f"http://127.0.0.1:{port}", waits, retries=2).json("POST", "transitions/")
    assert len(waits) == 2  # never sent, so even a POST without a key is safe to repeat


def test_field_errors_are_listed_under_the_message(stub):
    body = {
        "message": "Invalid input: This field is required.",
        "code": "invalid",
        "errors": {"owner_team": ["This field is required."], "datasets": [{"role": ["Bad."]}]},
    }
    with (
        stub([(400, {"X-Request-ID": "req-1"}, body)]) as server,
        pytest.raises(InvalidInput) as raised,
    ):
        transport(server.url, []).json("POST", "models/", json={})
    text = str(raised.value)
    assert text.splitlines() == [
        "Invalid input: This field is required. (HTTP 400, invalid)",
        "  owner_team: This field is required.",
        "  datasets[0].role: Bad.",
        "  request id: req-1",
    ]
    assert raised.value.errors["owner_team"] == ["This field is required."]


def test_a_body_that_is_not_stewards_is_summed_up(stub):
    with (
        stub([(404, {"Content-Type": "text/html"}, b"<html>nope</html>")]) as server,
        pytest.raises(Exception, match="Steward answered 404"),
    ):
        transport(server.url, []).json("GET", "models/x/")


def test_pages_are_followed_until_the_last(stub):
    pages = [
        (200, {}, {"count": 3, "next": "http://x/?page=2", "results": [{"n": 1}, {"n": 2}]}),
        (200, {}, {"count": 3, "next": None, "results": [{"n": 3}]}),
    ]
    with stub(pages) as server:
        rows = list(transport(server.url, []).paginate("models/"))
    assert [r["n"] for r in rows] == [1, 2, 3]
    assert "page=2" in server.requests[1]["path"]


def test_tls_is_verified_and_a_ca_bundle_is_honoured(stub):
    ca = Path(__file__).parent / "tls" / "ca.pem"
    with stub([(200, {}, {"ok": True})], tls=True) as server:
        untrusted = Transport(Settings(url=server.url, token="t"), max_retries=3, sleep=[].append)
        with pytest.raises(ConnectionFailed, match="certificate could not be verified"):
            untrusted.json("GET", "me/")
        assert len(untrusted.attempts) == 1  # a certificate problem is not retried
        trusted = Transport(Settings(url=server.url, token="t", verify=str(ca)), max_retries=0)
        assert trusted.json("GET", "me/") == {"ok": True}
