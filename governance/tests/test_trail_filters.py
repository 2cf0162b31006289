"""The audit trail's FilterSets (governance.filters.TrailFilter for the raw log, TimelineFilter
for the decisions timeline): the raw log page and ``/api/v1/audit/events/`` read the same
parameters and give the same rows; both tabs refuse the same bad values with a 400 naming the
field, never a 500; a filter carries over between the tabs."""

from __future__ import annotations

import pytest
from auditlog.context import set_actor
from django.core.cache import cache
from rest_framework.test import APIClient

from core.eventlog import audit_event_append
from tests.factories import ModelVersionFactory, RegisteredModelFactory

pytestmark = pytest.mark.django_db
PAGE = "/audit/log/"
TIMELINE = "/audit/"
API_EVENTS = "/api/v1/audit/events/"


@pytest.fixture(autouse=True)
def _fresh_chain_status():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def trail(team, contributor, validator, manager):
    with set_actor(contributor):
        credit = RegisteredModelFactory(name="credit-risk", owner_team=team, actor=contributor)
        v1 = ModelVersionFactory(registered_model=credit, actor=contributor)
    with set_actor(manager):
        churn = RegisteredModelFactory(name="churn", owner_team=team)
        churn_v1 = ModelVersionFactory(registered_model=churn)
    for actor, version in ((contributor, v1), (manager, churn_v1)):
        audit_event_append(
            actor=actor,
            action="version.transition",
            subject=version,
            scope_model=version.registered_model.name,
            scope_version=version.natural_key,
            data={"to": "submitted", "motivation": "ready"},
        )
    audit_event_append(actor=manager, action="login.success", data={"method": "password"})


def both_faces(client, auditor, params):
    client.force_login(auditor)
    page = client.get(PAGE, params)
    assert page.status_code == 200
    api = APIClient()
    api.force_authenticate(auditor)
    body = api.get(API_EVENTS, {**params, "page_size": 50})
    assert body.status_code == 200, body.json()
    from_page = [(row.source, row.id) for row, _ in page.context["rows"]]
    return from_page, [(row["source"], row["id"]) for row in body.json()["results"]]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"model": "credit-risk"},
        {"version": "churn/1"},
        {"user": "MAX"},
        {"action": "transition"},
        {"source": "change"},
        {"source": "chain", "until": "2999-01-01"},
        {"since": "2999-01-01"},
    ],
)
def test_the_raw_log_page_and_the_api_give_the_same_rows(client, auditor, trail, params):
    from_page, from_api = both_faces(client, auditor, params)
    assert from_page == from_api


def test_the_filters_narrow_as_they_say(client, auditor, trail):
    everything, _ = both_faces(client, auditor, {})
    chain, _ = both_faces(client, auditor, {"source": "chain"})
    assert chain and {source for source, _ in chain} == {"chain"}
    assert len(chain) < len(everything)  # the field changes are left out
    assert both_faces(client, auditor, {"since": "2999-01-01"})[0] == []


@pytest.mark.parametrize(
    "params, field",
    [
        ({"version": "credit-risk"}, "version"),
        ({"source": "rumour"}, "source"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-02-30"}, "until"),
        ({"model": "m" * 129}, "model"),
        ({"action": "a" * 65}, "action"),
    ],
)
def test_a_bad_value_is_a_400_naming_the_field(client, auditor, params, field):
    api = APIClient()
    api.force_authenticate(auditor)
    response = api.get(API_EVENTS, params)
    assert response.status_code == 400
    body = response.json()
    assert field in body["errors"] and body["errors"][field][0], body
    client.force_login(auditor)
    for url in (PAGE, TIMELINE):
        page = client.get(url, params)
        assert page.status_code == 400, url
        assert f"<code>{field}</code>" in page.content.decode()


def test_each_tab_renders_the_shared_bar_and_the_filter_carries_over(client, auditor, trail):
    client.force_login(auditor)
    params = {"model": "churn", "source": "chain", "since": "2026-01-01"}
    raw = client.get(PAGE, params).content.decode()
    bar = raw.split('data-testid="trail-filters"', 1)[1].split("</form>", 1)[0]
    for name in ("model", "version", "user", "action", "source", "since", "until"):
        assert f'name="{name}"' in bar
    assert 'value="churn"' in bar and '<option value="chain" selected>' in bar
    assert 'value="2026-01-01"' in bar and 'type="date"' in bar
    tabs = raw.split('data-testid="trail-tabs"', 1)[1].split("</nav>", 1)[0]
    assert "/audit/?model=churn&amp;source=chain&amp;since=2026-01-01" in tabs

    timeline = client.get(TIMELINE, params).content.decode()
    bar = timeline.split('data-testid="timeline-filters"', 1)[1].split("</form>", 1)[0]
    assert 'name="model"' in bar and 'name="source"' not in bar and 'name="action"' not in bar
    assert 'value="churn"' in bar
    tabs = timeline.split('data-testid="trail-tabs"', 1)[1].split("</nav>", 1)[0]
    assert "/audit/log/?model=churn&amp;source=chain&amp;since=2026-01-01" in tabs
