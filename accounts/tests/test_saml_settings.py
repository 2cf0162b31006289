"""The STEWARD_SAML_* settings: off unless the entity id is set, and every malformed value
stops start-up with a message naming the variable (config/saml.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import saml
from config.directory import DirectoryGrant

ENTITY_ID = "https://steward.example.org/saml/metadata/"


@pytest.fixture
def files(tmp_path):
    """A key, a certificate and an IdP metadata file (contents are not read at start-up)."""
    for name in ("sp.key", "sp.crt", "idp.xml"):
        (tmp_path / name).write_text("x")
    return tmp_path


def provider_kwargs(files, **overrides):
    return {
        "entity_id": ENTITY_ID,
        "key_file": str(files / "sp.key"),
        "cert_file": str(files / "sp.crt"),
        "idp_metadata_file": str(files / "idp.xml"),
        **overrides,
    }


def test_it_is_off_unless_the_entity_id_is_set(monkeypatch):
    for name in list(os.environ):
        if name.startswith("STEWARD_SAML_"):
            monkeypatch.delenv(name)
    assert saml.saml_provider_from_env() is None
    settings = saml.saml_settings(None, ["a", saml.SESSION_MIDDLEWARE, "b"])
    assert settings["STEWARD_SAML"] is None
    # djangosaml2's session middleware right after Django's, whether SAML is on or not.
    assert settings["MIDDLEWARE"] == ["a", saml.SESSION_MIDDLEWARE, saml.SAML_MIDDLEWARE, "b"]
    assert settings["SAML_SESSION_COOKIE_NAME"] == "steward_saml"


def test_it_reads_every_variable(monkeypatch, files):
    env = {
        "STEWARD_SAML_ENTITY_ID": ENTITY_ID,
        "STEWARD_SAML_KEY_FILE": str(files / "sp.key"),
        "STEWARD_SAML_CERT_FILE": str(files / "sp.crt"),
        "STEWARD_SAML_IDP_METADATA_URL": "https://adfs.example.org/FederationMetadata/2007-06/FederationMetadata.xml",
        "STEWARD_SAML_NAME": "Contoso ADFS",
        "STEWARD_SAML_USERNAME_ATTRIBUTE": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
        "STEWARD_SAML_GROUPS_ATTRIBUTE": "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
        "STEWARD_SAML_GROUP_ROLES": '{"Steward Validators": ["validator", "auditor"]}',
        "STEWARD_SAML_GROUP_TEAMS": '{"Credit Risk": "credit-risk"}',
        "STEWARD_SAML_CREATE_USERS": "false",
        "STEWARD_SAML_CLOCK_SKEW": "30",
        "STEWARD_SAML_TIMEOUT": "3",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    provider = saml.saml_provider_from_env()

    assert (provider.key, provider.name, provider.login_method) == (
        "contoso-adfs",
        "Contoso ADFS",
        "saml:contoso-adfs",
    )
    assert provider.username_claim.endswith("/upn") and provider.email_claim == "mail"
    assert provider.group_roles == {
        "Steward Validators": (DirectoryGrant("validator"), DirectoryGrant("auditor"))
    }
    assert provider.group_teams == {"Credit Risk": "credit-risk"}
    assert (provider.create_users, provider.clock_skew, provider.timeout) == (False, 30, 3)
    assert provider.idp_metadata_url.startswith("https://adfs.example.org/")
    cookie = saml.saml_settings(provider, [], secure_cookies=True)
    assert cookie["SAML_SESSION_COOKIE_SAMESITE"] == "None"  # the IdP's POST is cross-site


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"entity_id": "not a url"}, "STEWARD_SAML_ENTITY_ID"),
        ({"idp_metadata_file": ""}, "exactly one of"),
        ({"idp_metadata_url": "https://idp.example/md"}, "exactly one of"),
        (
            {"idp_metadata_file": "", "idp_metadata_url": "http://idp.example/md"},
            "STEWARD_SAML_IDP_METADATA_URL must use https://",
        ),
        (
            {"idp_metadata_file": "", "idp_metadata_url": "https://idp.example:99999/md"},
            "STEWARD_SAML_IDP_METADATA_URL",
        ),
        ({"idp_metadata_file": "/nonexistent/idp.xml"}, "STEWARD_SAML_IDP_METADATA_FILE"),
        ({"key_file": ""}, "STEWARD_SAML_KEY_FILE is required"),
        ({"cert_file": "/nonexistent/sp.crt"}, "STEWARD_SAML_CERT_FILE"),
        ({"name": "x" * 61}, "STEWARD_SAML_NAME"),
        ({"key": "Not Valid"}, "STEWARD_SAML_PROVIDER"),
        ({"username_attribute": "bad name"}, "STEWARD_SAML_USERNAME_ATTRIBUTE"),
        ({"groups_attribute": ""}, "STEWARD_SAML_GROUPS_ATTRIBUTE"),
        ({"group_roles": {"g": "no-such-role"}}, "STEWARD_SAML_GROUP_ROLES"),
        ({"group_teams": {"g": "Not A Slug"}}, "STEWARD_SAML_GROUP_TEAMS"),
        ({"clock_skew": 601}, "STEWARD_SAML_CLOCK_SKEW"),
        ({"timeout": 0}, "STEWARD_SAML_TIMEOUT"),
    ],
)
def test_a_malformed_value_is_refused(files, overrides, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        saml.saml_provider(**provider_kwargs(files, **overrides))


def test_the_same_key_as_the_oidc_provider_is_refused(files):
    provider = saml.saml_provider(**provider_kwargs(files, key="corp"))
    with pytest.raises(ImproperlyConfigured, match="both 'corp'"):
        saml.saml_settings(provider, [], oidc_key="corp")


def test_a_variable_without_the_entity_id_stops_start_up(monkeypatch):
    for name in list(os.environ):
        if name.startswith("STEWARD_SAML_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("STEWARD_SAML_IDP_METADATA_URL", "https://idp.example/md")
    with pytest.raises(ImproperlyConfigured, match="without STEWARD_SAML_ENTITY_ID"):
        saml.saml_provider_from_env()


def test_a_malformed_value_stops_the_real_start_up(tmp_path, files):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("STEWARD_SAML_")},
        "STEWARD_DEBUG": "true",
        "STEWARD_VAR_DIR": str(tmp_path),
        "STEWARD_SAML_ENTITY_ID": ENTITY_ID,
        "STEWARD_SAML_KEY_FILE": str(files / "sp.key"),
        "STEWARD_SAML_CERT_FILE": str(files / "sp.crt"),
        "STEWARD_SAML_IDP_METADATA_FILE": str(files / "idp.xml"),
        "STEWARD_SAML_CLOCK_SKEW": "3600",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "STEWARD_SAML_CLOCK_SKEW must be between 0 and 600" in result.stderr
