"""The SAML pages without an IdP: the sign-in page offers "Sign in with <name>" only when SAML
is configured, its routes 404 otherwise, SP metadata is served even while the IdP's metadata
cannot be had, and the login audit filters by ``saml:<provider>``."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.filters import LoginEventFilter, login_method_choices
from accounts.saml.config import sp_config_cache_clear
from config import saml

pytestmark = pytest.mark.django_db


@pytest.fixture
def saml_on(settings, tmp_path):
    from tests.sso.saml_server import key_pair_write

    key_pair_write(tmp_path, "sp")
    settings.STEWARD_SAML = saml.saml_provider(
        entity_id="https://steward.example.org/saml/metadata/",
        key_file=str(tmp_path / "sp.key"),
        cert_file=str(tmp_path / "sp.crt"),
        # Nothing listens on port 9 of this machine: the IdP's metadata cannot be had.
        idp_metadata_url="http://127.0.0.1:9/metadata/",
        name="Contoso",
        timeout=1,
    )
    sp_config_cache_clear()
    yield settings.STEWARD_SAML
    sp_config_cache_clear()


def test_it_is_off_unless_configured(client, settings):
    settings.STEWARD_SAML = None
    page = client.get(reverse("login"))
    assert b"saml-login" not in page.content
    assert client.get(reverse("saml-login")).status_code == 404
    assert client.post(reverse("saml-acs"), {"SAMLResponse": "x"}).status_code == 404
    assert client.get(reverse("saml-metadata")).status_code == 404


def test_the_sign_in_page_offers_the_idp_and_keeps_next(client, saml_on):
    page = client.get(reverse("login"), {"next": "/models/credit-scorer/"})
    assert b"Sign in with Contoso" in page.content
    assert b'href="/saml/login/?next=/models/credit-scorer/"' in page.content


def test_the_sp_metadata_does_not_need_the_idp(client, saml_on):
    response = client.get(reverse("saml-metadata"))
    assert response.status_code == 200
    assert b'entityID="https://steward.example.org/saml/metadata/"' in response.content
    assert b"http://testserver/saml/acs/" in response.content


def test_the_login_audit_filters_by_the_saml_method(saml_on):
    assert ("saml:contoso", "Contoso (single sign-on)") in login_method_choices()
    chosen = LoginEventFilter({"method": "saml:contoso"})
    assert chosen.is_valid() and chosen.form.cleaned_data["method"] == "saml:contoso"
    refused = LoginEventFilter({"method": "saml:Not Valid"})
    assert not refused.is_valid() and "method" in refused.errors
