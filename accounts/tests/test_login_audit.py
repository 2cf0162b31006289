"""The login audit: every attempt recorded with address and user agent (proxy headers believed
only from trusted proxies), repeated failures throttled with a clear message, a directory outage
explained, and the record readable by auditors and administrators only."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import SESSION_KEY
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.choices import LoginMethod, LoginOutcome
from accounts.constants import LOGIN_FAILURE_LIMIT
from accounts.models import LoginEvent
from accounts.services import login_event_record
from accounts.services.login_audit import DIRECTORY_UNREACHABLE_MESSAGE
from core.net import client_ip
from registry.models import RegisteredModel
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

THROTTLED = "Too many failed sign-ins for this account. Try again in 15 minutes."


def sign_in(client, username, password, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def basic(username: str, password: str) -> APIClient:
    api = APIClient(REMOTE_ADDR="192.0.2.44")
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    api.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
    return api


# --- What is recorded ----------------------------------------------------------------------


def test_it_records_a_successful_sign_in_with_address_and_user_agent(client, contributor):
    response = sign_in(
        client, "carol", PASSWORD, REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Firefox/140"
    )
    assert response.status_code == 302
    event = LoginEvent.objects.get()
    assert (event.user, event.username) == (contributor, "carol")
    assert (event.method, event.outcome) == (LoginMethod.PASSWORD, LoginOutcome.SUCCESS)
    assert (event.ip_address, event.user_agent) == ("203.0.113.9", "Firefox/140")


def test_it_records_a_failure_without_the_password(client, contributor):
    response = sign_in(client, "carol", "wrong-guess-123", REMOTE_ADDR="203.0.113.10")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    event = LoginEvent.objects.get()
    assert (event.user, event.outcome, event.ip_address) == (
        contributor,
        LoginOutcome.FAILURE,
        "203.0.113.10",
    )
    row = LoginEvent.objects.filter(pk=event.pk).values_list().get()
    assert not any("wrong-guess-123" in str(value) for value in row)


def test_a_failure_for_an_unknown_name_keeps_the_name_tried(client, db):
    sign_in(client, "nobody-here", "x")
    event = LoginEvent.objects.get()
    assert (event.username, event.user, event.outcome) == ("nobody-here", None, "failure")


def test_it_records_a_sign_out(client, contributor):
    client.force_login(contributor)
    LoginEvent.objects.all().delete()
    client.post(reverse("logout"), REMOTE_ADDR="203.0.113.11", HTTP_USER_AGENT="Safari")
    event = LoginEvent.objects.get()
    assert (event.user, event.method, event.ip_address) == (
        contributor,
        LoginMethod.LOGOUT,
        "203.0.113.11",
    )


# --- Where from ----------------------------------------------------------------------------


def test_a_forwarded_for_header_is_ignored_from_an_untrusted_peer(client, contributor):
    sign_in(
        client,
        "carol",
        PASSWORD,
        REMOTE_ADDR="203.0.113.12",
        HTTP_X_FORWARDED_FOR="10.9.9.9",
    )
    assert LoginEvent.objects.get().ip_address == "203.0.113.12"


def test_a_forwarded_for_header_is_believed_from_a_trusted_proxy(client, contributor, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    sign_in(
        client,
        "carol",
        PASSWORD,
        REMOTE_ADDR="10.0.0.2",
        # The client wrote the first entry itself; only the part our proxies appended counts.
        HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.20, 10.0.0.3",
    )
    assert LoginEvent.objects.get().ip_address == "198.51.100.20"


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("203.0.113.1", "198.51.100.1", "203.0.113.1"),  # untrusted peer: header ignored
        ("10.0.0.1", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.1", "1.1.1.1, 198.51.100.1, 10.0.0.7", "198.51.100.1"),
        ("10.0.0.1", "198.51.100.1:5123", "198.51.100.1"),
        ("10.0.0.1", "[2001:db8::5]:443", "2001:db8::5"),
        ("10.0.0.1", "garbage, 10.0.0.9", "10.0.0.9"),  # malformed: stop at the last good hop
        ("10.0.0.1", "", "10.0.0.1"),
        ("not-an-ip", "198.51.100.1", None),
    ],
)
def test_client_ip(settings, remote, forwarded, expected):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_the_audit_trail_does_not_believe_a_spoofed_address(contributor):
    api = APIClient(REMOTE_ADDR="203.0.113.30", HTTP_X_FORWARDED_FOR="1.2.3.4")
    api.force_authenticate(contributor)
    api.post("/api/v1/models/", {"name": "spoof", "owner_team": "credit-risk"}, format="json")
    entry = LogEntry.objects.get_for_object(RegisteredModel.objects.get(name="spoof")).get()
    assert entry.remote_addr == "203.0.113.30"


# --- Throttling ----------------------------------------------------------------------------


def _fail(client, username="carol", times=LOGIN_FAILURE_LIMIT, address="127.0.0.1"):
    for _ in range(times):
        sign_in(client, username, "wrong", REMOTE_ADDR=address)


def test_repeated_failures_throttle_the_account_even_with_the_right_password(client, contributor):
    _fail(client, address="203.0.113.13")
    response = sign_in(client, "carol", PASSWORD, REMOTE_ADDR="203.0.113.13")
    assert response.status_code == 200
    assert THROTTLED in response.content.decode()
    assert SESSION_KEY not in client.session
    refused = LoginEvent.objects.filter(outcome=LoginOutcome.THROTTLED).get()
    assert (refused.user, refused.ip_address) == (contributor, "203.0.113.13")
    assert LoginEvent.objects.filter(outcome=LoginOutcome.FAILURE).count() == LOGIN_FAILURE_LIMIT


def test_failures_from_one_address_do_not_lock_the_account_out_elsewhere(client, contributor):
    """Only that address is refused for the account (accounts.services.login_throttle)."""
    _fail(client, address="203.0.113.13")
    assert sign_in(client, "carol", PASSWORD, REMOTE_ADDR="198.51.100.2").status_code == 302


def test_changing_the_case_of_the_name_buys_no_more_guesses(client, contributor):
    _fail(client, "CAROL")
    assert THROTTLED in sign_in(client, "carol", PASSWORD).content.decode()


def test_fewer_failures_do_not_throttle(client, contributor):
    _fail(client, times=LOGIN_FAILURE_LIMIT - 1)
    assert sign_in(client, "carol", PASSWORD).status_code == 302


def test_the_throttle_lifts_when_the_failures_leave_the_window(client, contributor):
    _fail(client)
    LoginEvent.objects.update(created_at=timezone.now() - timedelta(minutes=16))
    assert sign_in(client, "carol", PASSWORD).status_code == 302


def test_a_success_ends_the_run_of_failures(client, contributor):
    _fail(client, times=LOGIN_FAILURE_LIMIT - 1)
    assert sign_in(client, "carol", PASSWORD).status_code == 302
    client.logout()
    _fail(client, times=1)
    assert sign_in(client, "carol", PASSWORD).status_code == 302


def test_the_admin_sign_in_page_is_throttled_too(client, administrator):
    _fail(client, "ada")
    response = client.post(reverse("admin:login"), {"username": "ada", "password": PASSWORD})
    assert THROTTLED in response.content.decode()
    assert SESSION_KEY not in client.session


def test_other_sign_in_pages_cannot_get_around_the_throttle(client, contributor):
    """The browsable API's sign-in page uses Django's plain form; the guard backend refuses."""
    _fail(client)
    response = client.post("/api-auth/login/", {"username": "carol", "password": PASSWORD})
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert LoginEvent.objects.filter(outcome=LoginOutcome.THROTTLED).count() == 1


def test_basic_auth_honours_the_throttle(client, contributor):
    _fail(client, address="192.0.2.44")  # basic() signs in from there
    response = basic("carol", PASSWORD).get("/api/v1/me/")
    assert response.status_code == 429
    assert THROTTLED in response.json()["message"]
    assert int(response["Retry-After"]) > 0
    assert LoginEvent.objects.filter(outcome=LoginOutcome.THROTTLED).count() == 1


def test_basic_auth_failures_count_and_successes_are_recorded_once_a_day(contributor):
    assert basic("carol", "wrong").get("/api/v1/me/").status_code in (401, 403)
    failure = LoginEvent.objects.get()
    assert (failure.outcome, failure.ip_address) == (LoginOutcome.FAILURE, "192.0.2.44")
    for _ in range(3):
        assert basic("carol", PASSWORD).get("/api/v1/me/").status_code == 200
    assert LoginEvent.objects.filter(outcome=LoginOutcome.SUCCESS, user=contributor).count() == 1


# --- Directory outage ----------------------------------------------------------------------


class UnreachableDirectoryBackend:
    """Stands in for the LDAP backend when the directory server is down: it says so on the
    request (the contract with accounts.ldap) and lets no one in."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is not None:
            request.steward_directory_error = "Can't contact LDAP server (ldap://dir:389)"
        return None

    def get_user(self, user_id):
        return None


@pytest.fixture
def directory_down(settings):
    settings.AUTHENTICATION_BACKENDS = [
        "accounts.backends.LoginThrottleBackend",
        "accounts.tests.test_login_audit.UnreachableDirectoryBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]


def test_a_directory_outage_is_explained_not_called_a_wrong_password(client, directory_down):
    response = sign_in(client, "dora", "her-directory-password")
    content = response.content.decode()
    assert DIRECTORY_UNREACHABLE_MESSAGE in content
    assert "Please enter a correct" not in content
    event = LoginEvent.objects.get()
    assert (event.method, event.outcome) == (LoginMethod.LDAP, LoginOutcome.ERROR)
    assert "Can't contact LDAP server" in event.detail


def test_local_accounts_still_sign_in_during_a_directory_outage(
    client, contributor, directory_down
):
    assert sign_in(client, "carol", PASSWORD).status_code == 302


def test_a_local_accounts_wrong_password_still_counts_during_an_outage(
    client, contributor, directory_down
):
    """Otherwise an outage would be a window for guessing local passwords."""
    _fail(client)
    event = LoginEvent.objects.filter(username="carol").first()
    assert (event.outcome, event.method) == (LoginOutcome.FAILURE, LoginMethod.PASSWORD)
    assert "Can't contact LDAP server" in event.detail
    assert THROTTLED in sign_in(client, "carol", PASSWORD).content.decode()


def test_basic_auth_explains_a_directory_outage(db, directory_down):
    response = basic("dora", "x").get("/api/v1/me/")
    assert response.status_code in (401, 403)
    assert response.json()["message"] == DIRECTORY_UNREACHABLE_MESSAGE


# --- Who reads it --------------------------------------------------------------------------


@pytest.fixture
def events(contributor):
    login_event_record(
        request=None, username="carol", user=contributor, method="password", outcome="success"
    )
    login_event_record(request=None, username="mallory", method="password", outcome="failure")
    return LoginEvent.objects.all()


@pytest.mark.parametrize("reader", ["auditor", "administrator"])
def test_auditors_and_administrators_read_the_login_audit(client, events, reader, request):
    user = request.getfixturevalue(reader)
    client.force_login(user)
    page = client.get(reverse("audit-logins"))
    assert page.status_code == 200
    assert "mallory" in page.content.decode()
    api = APIClient()
    api.force_authenticate(user)
    body = api.get("/api/v1/login-events/").json()
    assert {e["username"] for e in body["results"]} >= {"carol", "mallory"}


def test_a_contributor_may_not_read_the_login_audit(client, contributor, events):
    client.force_login(contributor)
    page = client.get(reverse("audit-logins"))
    assert page.status_code == 403
    assert "mallory" not in page.content.decode()
    api = APIClient()
    api.force_authenticate(contributor)
    response = api.get("/api/v1/login-events/")
    assert response.status_code == 403
    assert "auditors and administrators" in response.json()["message"]


def test_anonymous_visitors_are_sent_to_sign_in(client, events):
    response = client.get(reverse("audit-logins"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert APIClient().get("/api/v1/login-events/").status_code == 403


def test_the_login_audit_filters(client, auditor, events):
    api = APIClient()
    api.force_authenticate(auditor)
    failures = api.get("/api/v1/login-events/", {"outcome": "failure"}).json()["results"]
    assert [e["username"] for e in failures] == ["mallory"]
    named = api.get("/api/v1/login-events/", {"username": "CAR"}).json()["results"]
    assert [e["user"] for e in named] == ["carol"]
    today = timezone.now().date().isoformat()
    assert api.get("/api/v1/login-events/", {"until": today}).json()["count"] == 2
    assert api.get("/api/v1/login-events/", {"since": "2999-01-01"}).json()["count"] == 0
    bad = api.get("/api/v1/login-events/", {"outcome": "maybe"})
    assert bad.status_code == 400
    assert "outcome" in bad.json()["errors"]

    client.force_login(auditor)
    page = client.get(reverse("audit-logins"), {"method": "password", "outcome": "failure"})
    content = page.content.decode()
    assert "mallory" in content and '<span class="strong">carol</span>' not in content
    assert client.get(reverse("audit-logins"), {"since": "yesterday"}).status_code == 400


def test_the_login_audit_page_is_paginated_by_50(client, auditor):
    for n in range(55):
        login_event_record(request=None, username=f"u{n}", method="password", outcome="failure")
    client.force_login(auditor)
    first = client.get(reverse("audit-logins")).content.decode()
    assert first.count('data-testid="login-event-row"') == 50
    assert "Page 1 of 2" in first
    assert "u54" in first  # newest first


def test_the_login_events_api_costs_the_same_queries_for_any_page_size(
    auditor, django_assert_max_num_queries
):
    api = APIClient()
    api.force_authenticate(auditor)
    for n in range(30):
        login_event_record(request=None, username=f"u{n}", method="password", outcome="failure")
    with django_assert_max_num_queries(6):
        assert len(api.get("/api/v1/login-events/").json()["results"]) > 30 - 1


def test_the_login_event_admin_is_read_only(client, administrator, events):
    client.force_login(administrator)
    changelist = client.get(reverse("admin:accounts_loginevent_changelist"))
    assert changelist.status_code == 200
    assert "mallory" in changelist.content.decode()
    assert client.get(reverse("admin:accounts_loginevent_add")).status_code == 403
    event = events.first()
    client.post(reverse("admin:accounts_loginevent_delete", args=[event.pk]), {"post": "yes"})
    assert LoginEvent.objects.filter(pk=event.pk).exists()


# --- Keeping -------------------------------------------------------------------------------


def test_old_unsuccessful_attempts_are_pruned_and_the_pruning_is_in_the_chain(contributor):
    from accounts.tasks import prune_login_events
    from core.models import AuditEvent

    login_event_record(
        request=None, username="carol", user=contributor, method="password", outcome="success"
    )
    login_event_record(request=None, username="mallory", method="password", outcome="failure")
    login_event_record(request=None, username="mallory", method="password", outcome="throttled")
    LoginEvent.objects.update(created_at=timezone.now() - timedelta(days=91))
    login_event_record(request=None, username="eve", method="password", outcome="failure")
    assert prune_login_events.delay().get() == 2
    assert sorted(LoginEvent.objects.values_list("username", flat=True)) == ["carol", "eve"]
    assert AuditEvent.objects.get(action="login.prune").data["deleted"] == 2
    assert prune_login_events.delay().get() == 0
    assert AuditEvent.objects.filter(action="login.prune").count() == 1
