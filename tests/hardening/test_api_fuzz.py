"""Schemathesis over every operation of the API, a few derandomized examples each: as an
administrator with an all-scope token (valid data, invalid data, random path parameters) and
without credentials. No 5xx, every response documented and matching the schema, invalid data
refused with a 4xx, nothing answered without credentials but 401/403. ``bench/fuzz.py`` runs
the same harness with many more examples."""

from __future__ import annotations

import pytest

from tests.hardening.fuzz import api_schema, failures_of, fuzz_run, world_seed

pytestmark = pytest.mark.django_db

EXAMPLES = 6
ADMIN_PASSES = {"admin", "admin-negative", "admin-paths"}


def _report(tallies) -> str:
    failures = failures_of(tallies)
    return f"{len(failures)} fuzz failure(s):\n\n" + "\n\n".join(failures)


def test_every_error_status_is_documented_with_the_error_body():
    """The schema itself: every operation documents the error body for the 4xx it may answer,
    so what the fuzzer checks below is the body clients are promised."""
    schema = api_schema()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 90
    for operation in operations:
        for status in ("400", "401", "403", "404", "409", "413", "415"):
            body = operation.definition.raw["responses"][status]["content"]["application/json"]
            assert body["schema"] == {"$ref": "#/components/schemas/Error"}, operation.label


def test_it_fuzzes_every_operation_as_an_administrator():
    tallies = fuzz_run(
        world_seed(), examples=EXAMPLES, only={"admin", "admin-negative", "admin-paths"}
    )
    operations = {tally.operation for tally in tallies}
    assert len(operations) > 90
    idle = [
        (t.pass_name, t.operation, t.failures)
        for t in tallies
        if not t.examples and not t.nothing_to_invalidate
    ]
    assert not idle, idle
    # The world is real: most operations answered 2xx to at least one valid example.
    reached = {
        t.operation
        for t in tallies
        if t.pass_name == "admin" and any(200 <= s < 300 for s in t.statuses)
    }
    assert len(reached) > 60, sorted(operations - reached)
    assert not failures_of(tallies), _report(tallies)


def test_every_operation_refuses_a_caller_without_credentials():
    tallies = fuzz_run(world_seed(), examples=EXAMPLES, only={"anonymous"})
    assert len(tallies) > 90
    assert not failures_of(tallies), _report(tallies)
    statuses = {status for tally in tallies for status in tally.statuses}
    assert statuses <= {401, 403}, statuses


def test_the_harness_reports_a_server_error(monkeypatch):
    """The fuzzer is not vacuous: an operation that crashes is reported, with the request."""
    from accounts.api.views import MeView
    from tests.hardening.fuzz import POSITIVE, Pass, fuzz_operation, in_process_requests

    world = world_seed()
    monkeypatch.setattr(MeView, "get", lambda self, request: 1 / 0)
    operation = next(
        result.ok()
        for result in api_schema().get_all_operations()
        if result.ok().path == "/api/v1/me/"
    )
    run = Pass("admin", POSITIVE, authenticated=True, real_paths=True, examples=2)
    with in_process_requests():
        tally = fuzz_operation(operation, world, run)
    assert tally.statuses[500] >= 1
    assert "Server error" in tally.failures[0] and "/api/v1/me/" in tally.failures[0]
