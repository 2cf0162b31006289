"""The login audit's one FilterSet (accounts.filters.LoginEventFilter): the sign-in audit page
and ``/api/v1/login-events/`` read the same parameters, give the same rows for the same filter
and refuse the same bad values with a 400 naming the field, never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import login_event_record

pytestmark = pytest.mark.django_db
URL = "/api/v1/login-events/"


@pytest.fixture
def events(contributor):
    login_event_record(
        request=None, username="carol", user=contributor, method="password", outcome="success"
    )
    login_event_record(request=None, username="mallory", method="password", outcome="failure")
    login_event_record(request=None, username="carol", method="token", outcome="success")
    login_event_record(request=None, username="mallet", method="password", outcome="locked")


def both_faces(client, auditor, params):
    client.force_login(auditor)
    page = client.get(reverse("audit-logins"), params)
    assert page.status_code == 200
    api = APIClient()
    api.force_authenticate(auditor)
    body = api.get(URL, params)
    assert body.status_code == 200, body.json()
    return [e.pk for e in page.context["page"].object_list], [
        e["id"] for e in body.json()["results"]
    ]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"username": "MAL"},
        {"outcome": "failure"},
        {"method": "token"},
        {"username": "carol", "outcome": "success"},
        {"since": "2999-01-01"},
        {"until": "today"},
    ],
)
def test_the_page_and_the_api_give_the_same_rows(client, auditor, events, params):
    if params.get("until") == "today":
        params = {"until": timezone.now().date().isoformat()}
    from_page, from_api = both_faces(client, auditor, params)
    assert from_page == from_api


def test_the_filters_narrow_as_they_say(client, auditor, events):
    assert len(both_faces(client, auditor, {"username": "MAL"})[0]) == 2  # mallory, mallet
    assert len(both_faces(client, auditor, {"username": "carol", "outcome": "success"})[0]) == 2
    assert both_faces(client, auditor, {"since": "2999-01-01"})[0] == []


@pytest.mark.parametrize(
    "params, field",
    [
        ({"outcome": "maybe"}, "outcome"),
        ({"method": "carrier-pigeon"}, "method"),
        ({"method": "saml:Not Valid"}, "method"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-45"}, "until"),
        ({"username": "x" * 201}, "username"),
    ],
)
def test_a_bad_value_is_a_400_naming_the_field_on_both_faces(client, auditor, params, field):
    api = APIClient()
    api.force_authenticate(auditor)
    response = api.get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert field in body["errors"] and body["errors"][field][0], body

    client.force_login(auditor)
    page = client.get(reverse("audit-logins"), params)
    assert page.status_code == 400
    assert f"<code>{field}</code>" in page.content.decode()


def test_the_page_renders_the_shared_filter_bar(client, auditor, events):
    client.force_login(auditor)
    html = client.get(reverse("audit-logins"), {"outcome": "failure"}).content.decode()
    bar = html.split('data-testid="login-event-filters"', 1)[1].split("</form>", 1)[0]
    for name in ("username", "outcome", "method", "since", "until"):
        assert f'name="{name}"' in bar
    assert '<option value="failure" selected>' in bar
    assert 'type="date"' in bar and ">Clear</a>" in bar
