"""The STEWARD_OIDC_* settings: off unless the issuer is set, and every malformed value stops
start-up with a message naming the variable (config/sso.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import sso
from config.directory import DirectoryGrant

ISSUER = "https://login.example.com/tenant/v2.0"


def test_it_is_off_unless_the_issuer_is_set(monkeypatch):
    for name in list(__import__("os").environ):
        if name.startswith("STEWARD_OIDC_"):
            monkeypatch.delenv(name)
    assert sso.oidc_provider_from_env() is None
    settings = sso.oidc_settings(None, ["x", sso.MODEL_BACKEND])
    assert settings == {"STEWARD_OIDC": None, "AUTHENTICATION_BACKENDS": ["x", sso.MODEL_BACKEND]}


def test_it_reads_every_variable(monkeypatch):
    env = {
        "STEWARD_OIDC_ISSUER": ISSUER,
        "STEWARD_OIDC_CLIENT_ID": "steward",
        "STEWARD_OIDC_CLIENT_SECRET": "s3cret",
        "STEWARD_OIDC_NAME": "Okta",
        "STEWARD_OIDC_SCOPES": "openid profile email groups",
        "STEWARD_OIDC_USERNAME_CLAIM": "email",
        "STEWARD_OIDC_GROUPS_CLAIM": "roles",
        "STEWARD_OIDC_GROUP_ROLES": '{"Validators": ["validator", "auditor"]}',
        "STEWARD_OIDC_GROUP_TEAMS": '{"Credit Risk": "credit-risk"}',
        "STEWARD_OIDC_CREATE_USERS": "false",
        "STEWARD_OIDC_API_AUDIENCE": "api://steward",
        "STEWARD_OIDC_TIMEOUT": "3",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    provider = sso.oidc_provider_from_env()

    assert (provider.key, provider.name, provider.login_method) == ("okta", "Okta", "oidc:okta")
    assert provider.username_claim == "email" and provider.groups_claim == "roles"
    assert provider.group_roles == {
        "Validators": (DirectoryGrant("validator"), DirectoryGrant("auditor"))
    }
    assert provider.group_teams == {"Credit Risk": "credit-risk"}
    assert provider.create_users is False
    assert provider.audience_for_api == "api://steward"
    settings = sso.oidc_settings(provider, ["throttle", sso.MODEL_BACKEND])
    assert settings["AUTHENTICATION_BACKENDS"] == ["throttle", sso.OIDC_BACKEND, sso.MODEL_BACKEND]
    assert settings["OIDC_USE_PKCE"] is True and settings["OIDC_USE_NONCE"] is True
    assert settings["OIDC_RP_SIGN_ALGO"] == "RS256"
    assert settings["OIDC_TOKEN_USE_BASIC_AUTH"] is True  # client_secret_basic


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"issuer": "http://login.example.com/"}, "must use https://"),
        ({"issuer": "ftp://login.example.com/"}, "must be an https:// URL"),
        ({"issuer": "https://login.example.com/?tenant=1"}, "query or fragment"),
        ({"client_id": ""}, "STEWARD_OIDC_CLIENT_ID is required"),
        ({"scopes": "profile email"}, "must include openid"),
        ({"key": "Not A Slug"}, "STEWARD_OIDC_PROVIDER"),
        ({"username_claim": "bad claim"}, "STEWARD_OIDC_USERNAME_CLAIM"),
        ({"group_roles": {"g": "overlord"}}, "unknown role 'overlord'"),
        ({"group_teams": {"g": "not a slug"}}, "STEWARD_OIDC_GROUP_TEAMS"),
        ({"group_roles": ["validator"]}, "STEWARD_OIDC_GROUP_ROLES must be a JSON object"),
        ({"timeout": 0}, "STEWARD_OIDC_TIMEOUT"),
        ({"clock_skew": 3600}, "STEWARD_OIDC_CLOCK_SKEW"),
    ],
)
def test_a_malformed_value_is_refused(overrides, message):
    arguments = {"issuer": ISSUER, "client_id": "steward", **overrides}
    with pytest.raises(ImproperlyConfigured, match=message):
        sso.oidc_provider(**arguments)


def test_plain_http_is_allowed_only_on_this_machine():
    assert sso.oidc_provider(issuer="http://127.0.0.1:9000/o", client_id="x").issuer
    assert sso.oidc_provider(issuer="http://localhost:9000/o", client_id="x").issuer


def test_a_variable_without_the_issuer_stops_start_up(monkeypatch):
    monkeypatch.delenv("STEWARD_OIDC_ISSUER", raising=False)
    monkeypatch.setenv("STEWARD_OIDC_CLIENT_ID", "steward")
    with pytest.raises(ImproperlyConfigured, match="set without STEWARD_OIDC_ISSUER"):
        sso.oidc_provider_from_env()


def test_settings_refuse_a_malformed_value_at_start_up(tmp_path):
    """The real settings module, in a fresh process, stops with the variable's name."""
    env = {
        "PATH": "/usr/bin:/bin",
        "STEWARD_DEBUG": "true",
        "STEWARD_VAR_DIR": str(tmp_path),
        "STEWARD_OIDC_ISSUER": ISSUER,
        "STEWARD_OIDC_CLIENT_ID": "steward",
        "STEWARD_OIDC_GROUP_ROLES": "{not json",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "STEWARD_OIDC_GROUP_ROLES must be a JSON object" in result.stderr
