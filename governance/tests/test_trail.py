"""The auditor's trail: audit events and field changes merged, filtered, paginated and exported,
for auditors and administrators only."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from unittest import mock

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.eventlog import VerifyResult, audit_event_append
from core.models import AuditEvent
from governance.trail_export import EXPORT_FIELDS
from tests.factories import PASSWORD, ModelVersionFactory, RegisteredModelFactory, UserFactory

PAGE = "/audit/log/"  # the raw log; /audit/ is the decisions timeline (test_trail_timeline)
TIMELINE = "/audit/"
CSV = "/audit/export.csv"
JSON = "/audit/export.json"
API_EVENTS = "/api/v1/audit/events/"
API_EXPORT = "/api/v1/audit/export/"
LONG_AGO = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_chain_status():
    """The chain status is cached for a minute; each test starts without it."""
    cache.clear()
    yield
    cache.clear()


def transition(actor, version, to_state, *, moment=None):
    """A decision's audit event, as the transition service appends it."""
    with mock.patch("django.utils.timezone.now", return_value=moment or datetime.now(UTC)):
        return audit_event_append(
            actor=actor,
            action="version.transition",
            subject=version,
            scope_model=version.registered_model.name,
            scope_version=version.natural_key,
            data={"to": to_state, "motivation": f"{to_state} by {actor.username}"},
        )


@pytest.fixture
def trail(team, contributor, validator, manager):
    """credit-risk v1 and v2 (changes by carol), churn v1 (changes by max), a decision on each
    version, and a sign-in of max long ago."""
    with set_actor(contributor, remote_addr="198.51.100.7"):
        credit = RegisteredModelFactory(name="credit-risk", owner_team=team, actor=contributor)
        v1 = ModelVersionFactory(registered_model=credit, actor=contributor)
        v2 = ModelVersionFactory(registered_model=credit, actor=contributor)
    with set_actor(manager):
        churn = RegisteredModelFactory(name="churn", owner_team=team)
        churn_v1 = ModelVersionFactory(registered_model=churn)
    events = {
        "e_v1": transition(contributor, v1, "submitted"),
        "e_v2": transition(validator, v2, "validated"),
        "e_churn": transition(manager, churn_v1, "approved"),
        "e_login": audit_event_append(
            actor=manager, action="login.success", data={"method": "password"}
        ),
    }
    return {"credit": credit, "v1": v1, "v2": v2, "churn": churn, "churn_v1": churn_v1, **events}


def as_user(client, user):
    client.force_login(user)
    return client


def changes_of(obj) -> set[tuple[str, int]]:
    return {
        ("change", pk) for pk in LogEntry.objects.get_for_object(obj).values_list("pk", flat=True)
    }


def api_keys(client, params="") -> set[tuple[str, int]]:
    response = client.get(f"{API_EVENTS}?page_size=200&{params}")
    assert response.status_code == 200, response.content
    return {(row["source"], row["id"]) for row in response.json()["results"]}


def csv_rows(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8")
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == EXPORT_FIELDS
    return list(reader)


def json_body(response) -> dict:
    return json.loads(b"".join(response.streaming_content))


# --- The page -------------------------------------------------------------------------------


def test_it_shows_an_auditor_events_and_field_changes(client, auditor, trail):
    response = as_user(client, auditor).get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-chain-ok="true"' in html
    assert f"The chain of {AuditEvent.objects.count()} audit events" in html
    assert "version.transition" in html and "login.success" in html
    assert 'data-source="change"' in html
    assert "credit-risk v2" in html
    assert "198.51.100.7" in html  # the address auditlog recorded for carol's changes
    rows = response.context["rows"]
    assert len(rows) == response.context["page"].paginator.count
    assert rows[0][0].at >= rows[-1][0].at  # newest first


def test_it_shows_the_broken_chain_in_the_banner(client, auditor, trail):
    broken = VerifyResult(False, 1, 2, trail["e_v2"].pk, "its content does not match its hash")
    with mock.patch("governance.trail.audit_chain_verify", return_value=broken):
        html = as_user(client, auditor).get(PAGE).content.decode()
    assert 'data-chain-ok="false"' in html
    assert "broken</strong> at sequence 2" in html


def test_it_lets_administrators_and_superusers_in(client, administrator, trail):
    assert as_user(client, administrator).get(PAGE).status_code == 200
    root = UserFactory(username="root", is_superuser=True)
    assert as_user(client, root).get(PAGE).status_code == 200


def test_it_links_the_trail_in_the_header_for_auditors_only(client, auditor, contributor):
    assert 'data-testid="audit-link"' in as_user(client, auditor).get(PAGE).content.decode()
    page = as_user(client, contributor).get("/models/").content.decode()
    assert 'data-testid="audit-link"' not in page


@pytest.mark.parametrize("persona", ["contributor", "outsider", "validator", "manager"])
@pytest.mark.parametrize(
    "url", [TIMELINE, PAGE, CSV, JSON, API_EVENTS, f"{API_EXPORT}?format=csv", API_EXPORT]
)
def test_it_refuses_everyone_else(client, request, persona, url, trail):
    user = request.getfixturevalue(persona)
    response = as_user(client, user).get(url)
    assert response.status_code == 403
    assert "version.transition" not in response.content.decode()


def test_it_sends_anonymous_visitors_to_sign_in(client, trail):
    assert client.get(PAGE).status_code == 302
    assert client.get(TIMELINE).status_code == 302
    assert client.get(CSV).status_code == 302
    assert client.get(API_EVENTS).status_code in (401, 403)


def test_it_answers_bad_filters_with_400(client, auditor):
    as_user(client, auditor)
    assert client.get(f"{PAGE}?version=credit-risk").status_code == 400
    assert client.get(f"{PAGE}?since=yesterday").status_code == 400
    assert client.get(f"{CSV}?source=other").status_code == 400
    response = client.get(f"{API_EVENTS}?version=x/y")
    assert response.status_code == 400
    assert "version" in response.json()["errors"]
    assert client.get(f"{API_EXPORT}?format=xml").status_code == 400


# --- Filters --------------------------------------------------------------------------------


def chain_pks(**scope) -> set[int]:
    from core.models import AuditEvent

    return set(AuditEvent.objects.filter(**scope).values_list("pk", flat=True))


def test_the_model_filter_keeps_the_models_events_and_its_records_changes(client, auditor, trail):
    keys = api_keys(as_user(client, auditor), "model=credit-risk")
    # The decisions, and every other chained event of the model (its registrations, ...).
    expected = {("chain", trail["e_v1"].pk), ("chain", trail["e_v2"].pk)}
    expected |= {("chain", pk) for pk in chain_pks(scope_model="credit-risk")}
    for obj in (trail["credit"], trail["v1"], trail["v2"]):
        expected |= changes_of(obj)
    assert keys == expected
    assert not keys & changes_of(trail["churn_v1"])


def test_the_version_filter_keeps_one_version(client, auditor, trail):
    keys = api_keys(as_user(client, auditor), "version=credit-risk/2")
    chained = {("chain", pk) for pk in chain_pks(scope_version="credit-risk/2")}
    assert ("chain", trail["e_v2"].pk) in chained
    assert keys == chained | changes_of(trail["v2"])


def test_the_user_filter_keeps_what_one_person_did(client, auditor, manager, trail):
    keys = api_keys(as_user(client, auditor), "user=MAX")
    by_max = LogEntry.objects.filter(actor=manager).values_list("pk", flat=True)
    assert changes_of(trail["churn"]) | changes_of(trail["churn_v1"]) <= {
        ("change", pk) for pk in by_max
    }
    expected = {("chain", trail["e_churn"].pk), ("chain", trail["e_login"].pk)}
    assert keys == expected | {("change", pk) for pk in by_max}


def test_the_period_filter_keeps_what_happened_between_two_days(client, auditor, manager, trail):
    old = transition(manager, trail["churn_v1"], "production", moment=LONG_AGO)
    LogEntry.objects.filter(pk__in=[pk for _, pk in changes_of(trail["churn"])]).update(
        timestamp=LONG_AGO
    )
    as_user(client, auditor)
    keys = api_keys(client, "since=2025-03-10&until=2025-03-10")
    assert keys == {("chain", old.pk)} | changes_of(trail["churn"])
    assert api_keys(client, "until=2025-03-09") == set()
    assert ("chain", old.pk) not in api_keys(client, "since=2025-03-11")


def test_the_action_and_source_filters(client, auditor, trail):
    as_user(client, auditor)
    logins = api_keys(client, "action=login")
    assert ("chain", trail["e_login"].pk) in logins
    # Signing in is itself recorded, so the auditor's own login is there too.
    assert all(AuditEvent.objects.get(pk=pk).action.startswith("login") for _, pk in logins)
    created = api_keys(client, "action=create")
    assert created and all(source == "change" for source, _ in created)
    assert all(source == "chain" for source, _ in api_keys(client, "source=chain"))
    assert all(source == "change" for source, _ in api_keys(client, "source=change"))


def test_the_page_filters_like_the_api(client, auditor, trail):
    as_user(client, auditor)
    response = client.get(f"{PAGE}?model=credit-risk&user=vera")
    rows = [row for row, _ in response.context["rows"]]
    assert [(row.source, row.id) for row in rows] == [("chain", trail["e_v2"].pk)]
    assert 'href="/audit/export.csv?model=credit-risk&amp;user=vera"' in response.content.decode()


def test_it_pages_fifty_entries_at_a_time(client, auditor, manager):
    for n in range(55):
        audit_event_append(actor=manager, action="test.event", data={"n": n})
    as_user(client, auditor)
    first = client.get(f"{PAGE}?source=chain&action=test.event")
    assert len(first.context["rows"]) == 50
    second = client.get(f"{PAGE}?source=chain&action=test.event&page=2")
    assert [row.details["n"] for row, _ in second.context["rows"]] == [4, 3, 2, 1, 0]
    body = client.get(f"{API_EVENTS}?source=chain&action=test.event").json()
    assert (body["count"], len(body["results"])) == (55, 50)


def test_a_page_costs_the_same_queries_however_many_rows(client, auditor, manager, team):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(API_EVENTS).status_code == 200
        return len(captured)

    as_user(client, auditor)
    audit_event_append(actor=manager, action="test.event")
    few = queries()
    with set_actor(manager):
        model = RegisteredModelFactory(owner_team=team)
        for _ in range(5):
            ModelVersionFactory(registered_model=model)
    for n in range(20):
        audit_event_append(actor=manager, action="test.event", data={"n": n})
    assert queries() == few


# --- Exports --------------------------------------------------------------------------------


def test_the_csv_export_holds_the_filtered_rows(client, auditor, trail):
    as_user(client, auditor)
    response = client.get(f"{CSV}?model=credit-risk")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="steward-audit-trail-')
    assert response["Content-Disposition"].endswith('.csv"')
    assert response["X-Content-Type-Options"] == "nosniff"
    rows = csv_rows(response)
    assert {(row["source"], int(row["id"])) for row in rows} == api_keys(
        client, "model=credit-risk"
    )
    stored = AuditEvent.objects.get(pk=trail["e_v2"].pk)
    event = next(row for row in rows if row["source"] == "chain" and int(row["id"]) == stored.pk)
    assert event["actor"] == "vera"
    assert event["hash"] == stored.hash and event["prev_hash"] == stored.prev_hash
    assert json.loads(event["details"]) == stored.data
    assert datetime.fromisoformat(event["at"]) == stored.created_at
    times = [datetime.fromisoformat(row["at"]) for row in rows]
    assert times == sorted(times, reverse=True)


def test_the_csv_export_defuses_spreadsheet_formulas(client, auditor, manager):
    audit_event_append(actor=manager, action="note", subject_label='=HYPERLINK("x")')
    rows = csv_rows(as_user(client, auditor).get(f"{CSV}?action=note"))
    assert rows[0]["subject_label"] == '\'=HYPERLINK("x")'


def test_the_json_export_holds_the_filtered_rows_and_the_chain_status(client, auditor, trail):
    as_user(client, auditor)
    response = client.get(f"{JSON}?user=vera&source=chain")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].endswith('.json"')
    assert response["X-Content-Type-Options"] == "nosniff"
    body = json_body(response)
    assert body["filters"]["user"] == "vera"
    assert body["chain"]["ok"] is True
    assert body["chain"]["checked"] == AuditEvent.objects.count()
    assert [row["id"] for row in body["rows"]] == [trail["e_v2"].pk]
    row = body["rows"][0]
    assert list(row) == EXPORT_FIELDS
    assert row["scope_version"] == "credit-risk/2"
    assert row["details"] == {"to": "validated", "motivation": "validated by vera"}


def test_the_api_export_gives_the_same_files(client, auditor, trail):
    as_user(client, auditor)
    page_csv = csv_rows(client.get(f"{CSV}?model=churn"))
    api_csv = client.get(f"{API_EXPORT}?format=csv&model=churn")
    assert api_csv["Content-Disposition"].endswith('.csv"')
    assert csv_rows(api_csv) == page_csv
    api_json = client.get(f"{API_EXPORT}?model=churn")
    assert api_json["X-Content-Type-Options"] == "nosniff"
    assert [row["id"] for row in json_body(api_json)["rows"]] == [
        int(row["id"]) for row in page_csv
    ]


def test_the_api_works_with_basic_auth(client, auditor, trail):
    import base64

    credentials = base64.b64encode(f"aud:{PASSWORD}".encode()).decode()
    # Field changes only: signing in (with Basic auth or the page) adds chain events itself.
    response = client.get(f"{API_EVENTS}?source=change", HTTP_AUTHORIZATION=f"Basic {credentials}")
    assert response.status_code == 200
    assert response.json()["count"] == len(api_keys(as_user(client, auditor), "source=change"))
