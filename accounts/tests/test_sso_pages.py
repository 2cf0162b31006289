"""Single sign-on on Steward's own pages, without a provider: the sign-in button only when one
is configured, its routes 404 otherwise, the login audit filters by ``oidc:<provider>``, and
administrators (only) link an account to a provider subject in the admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.choices import LoginOutcome
from accounts.models import ExternalIdentity, LoginEvent
from accounts.services.login_audit import login_event_record
from config import sso
from core.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def okta(settings):
    provider = sso.oidc_provider(
        issuer="https://example.okta.com", client_id="steward", name="Okta"
    )
    for name, value in sso.oidc_settings(provider, settings.AUTHENTICATION_BACKENDS).items():
        setattr(settings, name, value)
    return provider


def test_the_sign_in_page_offers_the_provider_only_when_configured(client, settings):
    settings.STEWARD_OIDC = None
    page = client.get(reverse("login"))
    assert b"sso-login" not in page.content
    assert client.get(reverse("oidc-login")).status_code == 404
    assert client.get(reverse("oidc-callback"), {"state": "x", "code": "y"}).status_code == 404


def test_the_button_carries_next(client, okta):
    page = client.get(reverse("login"), {"next": "/models/credit-scorer/"})
    assert page.status_code == 200
    assert b"Sign in with Okta" in page.content
    assert b'href="/oidc/authenticate/?next=/models/credit-scorer/"' in page.content


def test_a_callback_without_a_started_sign_on_is_refused_and_audited(client, okta):
    response = client.get(reverse("oidc-callback"), {"state": "forged", "code": "stolen"})

    assert response.status_code == 302 and response["Location"] == reverse("login")
    event = LoginEvent.objects.get()
    assert (event.method, event.outcome) == ("oidc:okta", LoginOutcome.FAILURE)
    assert event.detail.startswith("bad_state:")
    assert b"was refused" in client.get(reverse("login")).content


def test_a_provider_error_answer_is_refused_and_audited(client, okta):
    response = client.get(
        reverse("oidc-callback"), {"error": "access_denied", "error_description": "no consent"}
    )
    assert response["Location"] == reverse("login")
    assert LoginEvent.objects.get().detail.startswith("provider_error: the provider answered")


def test_the_login_audit_filters_by_provider(client, auditor, okta):
    login_event_record(
        request=None, username="dana", method="oidc:okta", outcome="success", subject="00u-1"
    )
    login_event_record(request=None, username="erin", method="password", outcome="success")
    client.force_login(auditor)

    page = client.get(reverse("audit-logins"), {"method": "oidc:okta"})

    assert page.status_code == 200
    assert b"dana" in page.content and b"erin" not in page.content
    assert b'<option value="oidc:okta" selected>Okta (single sign-on)</option>' in page.content
    bad = client.get(reverse("audit-logins"), {"method": "oidc:NOT VALID"})
    assert bad.status_code == 400
    api = client.get("/api/v1/login-events/", {"method": "oidc:okta"})
    assert [row["subject"] for row in api.json()["results"]] == ["00u-1"]


def test_an_administrator_links_an_account_in_the_admin(client, administrator):
    local = UserFactory(username="d.smith")
    client.force_login(administrator)

    response = client.post(
        reverse("admin:accounts_externalidentity_add"),
        {"user": local.pk, "provider": "okta", "subject": "00u-dana"},
    )

    assert response.status_code == 302, response.content[:2000]
    assert ExternalIdentity.objects.get().user == local
    assert AuditEvent.objects.get(action="identity.link").actor == administrator


def test_nobody_else_links_accounts(client, auditor):
    local = UserFactory(username="d.smith")
    auditor.is_staff = True
    auditor.save()
    client.force_login(auditor)

    response = client.post(
        reverse("admin:accounts_externalidentity_add"),
        {"user": local.pk, "provider": "okta", "subject": "00u-dana"},
    )

    assert response.status_code == 403
    assert not ExternalIdentity.objects.exists()
