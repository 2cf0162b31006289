"""The directory settings: what STEWARD_LDAP_* values turn into, and the values refused at
start-up. No directory server needed."""

from __future__ import annotations

import os
import subprocess
import sys

import ldap
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config.directory import (
    LDAP_BACKEND,
    DirectoryGrant,
    auth_ldap_settings,
    env_json_object,
    group_roles_parse,
    with_ldap_backend,
)

GOOD = {
    "server_uri": "ldaps://dc1.corp.example ldaps://dc2.corp.example",
    "user_search_base": "ou=people,dc=corp,dc=example",
    "group_search_base": "ou=groups,dc=corp,dc=example",
}


def test_it_asks_the_directory_before_local_passwords_and_after_the_throttle():
    backends = [
        "accounts.backends.LoginThrottleBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]

    assert with_ldap_backend(backends) == [
        "accounts.backends.LoginThrottleBackend",
        LDAP_BACKEND,
        "django.contrib.auth.backends.ModelBackend",
    ]
    assert with_ldap_backend(with_ldap_backend(backends)) == with_ldap_backend(backends)


def test_it_reads_team_scoped_roles_from_the_mapping():
    parsed = group_roles_parse(
        {
            "CN=Risk, DC=corp": ["contributor@credit-risk", "validator"],
            "cn=audit,dc=corp": "auditor",
        }
    )

    assert parsed == {
        "cn=risk,dc=corp": (
            DirectoryGrant("contributor", "credit-risk"),
            DirectoryGrant("validator"),
        ),
        "cn=audit,dc=corp": (DirectoryGrant("auditor"),),
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"server_uri": "https://dc1.corp.example"}, "STEWARD_LDAP_SERVER_URI"),
        ({"user_search_base": ""}, "STEWARD_LDAP_USER_SEARCH_BASE is required"),
        ({"user_search_base": "people"}, "STEWARD_LDAP_USER_SEARCH_BASE"),
        ({"user_filter": "(uid=%(username)s)"}, "must contain %(user)s"),
        ({"user_filter": "(&(uid=%(user)s)"}, "one parenthesised LDAP filter"),
        ({"group_type": "posixGroup"}, "STEWARD_LDAP_GROUP_TYPE"),
        ({"group_roles": {"cn=x,dc=corp": "overlord"}}, "unknown role 'overlord'"),
        ({"group_roles": {"cn=x,dc=corp": "validator@Credit Risk"}}, "team slug"),
        ({"group_roles": {"cn=x": "validator", "CN=X": "auditor"}}, "listed twice"),
        ({"group_teams": {"not a dn": "credit-risk"}}, "not a distinguished name"),
        ({"group_teams": {"cn=x,dc=corp": "x"}, "group_search_base": ""}, "GROUP_SEARCH_BASE"),
        ({"bind_password": "secret"}, "without STEWARD_LDAP_BIND_DN"),
        ({"start_tls": True}, "ldaps:// is TLS"),
        ({"ca_file": "/nonexistent/ca.pem"}, "STEWARD_LDAP_CA_FILE"),
    ],
)
def test_it_refuses_bad_settings_at_start_up(overrides, message):
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(").replace(")", r"\)")):
        auth_ldap_settings(**{**GOOD, **overrides})


def test_it_builds_the_active_directory_settings():
    built = auth_ldap_settings(
        **GOOD,
        bind_dn="CN=svc-steward,OU=Service Accounts,DC=corp,DC=example",
        bind_password="secret",
        user_filter="(sAMAccountName=%(user)s)",
        group_type="activeDirectory",
        timeout=3,
    )

    assert built["AUTH_LDAP_USER_SEARCH"].filterstr == "(sAMAccountName=%(user)s)"
    assert type(built["AUTH_LDAP_GROUP_TYPE"]).__name__ == "NestedActiveDirectoryGroupType"
    assert built["AUTH_LDAP_GROUP_SEARCH"].filterstr == "(objectClass=group)"
    assert built["AUTH_LDAP_CONNECTION_OPTIONS"][ldap.OPT_NETWORK_TIMEOUT] == 3
    assert built["AUTH_LDAP_CONNECTION_OPTIONS"][ldap.OPT_TIMEOUT] == 3
    assert built["AUTH_LDAP_ALWAYS_UPDATE_USER"] is True
    assert built["AUTH_LDAP_FIND_GROUP_PERMS"] is False
    assert built["AUTH_LDAP_CACHE_TIMEOUT"] == 0


def test_it_reads_a_mapping_as_json_from_the_environment(monkeypatch):
    monkeypatch.setenv("STEWARD_LDAP_GROUP_TEAMS", '{"cn=risk,dc=corp": "credit-risk"}')
    monkeypatch.setenv("STEWARD_LDAP_GROUP_ROLES", "")

    assert env_json_object("STEWARD_LDAP_GROUP_TEAMS") == {"cn=risk,dc=corp": "credit-risk"}
    assert env_json_object("STEWARD_LDAP_GROUP_ROLES") == {}


@pytest.mark.parametrize("raw", ["{'cn=x': 'validator'}", '["validator"]', "validator"])
def test_it_refuses_a_mapping_that_is_not_a_json_object(monkeypatch, raw):
    monkeypatch.setenv("STEWARD_LDAP_GROUP_ROLES", raw)

    with pytest.raises(ImproperlyConfigured, match="STEWARD_LDAP_GROUP_ROLES must be a JSON"):
        env_json_object("STEWARD_LDAP_GROUP_ROLES")


def test_a_bad_directory_setting_stops_start_up():
    """The real settings module, started the way a deployment starts it."""
    env = {
        **os.environ,
        "STEWARD_SECRET_KEY": "start-up-test-key-" + "k7Qw9zXv2pLm4nBr8tYc6sDf1gHj3aEu5iOo0",
        "STEWARD_LDAP_SERVER_URI": "ldap://directory.example",
        "STEWARD_LDAP_USER_SEARCH_BASE": "ou=people,dc=example",
        "STEWARD_LDAP_GROUP_SEARCH_BASE": "ou=groups,dc=example",
        "STEWARD_LDAP_GROUP_ROLES": '{"cn=validators,ou=groups,dc=example": "overlord"}',
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }

    started = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert started.returncode != 0
    assert "ImproperlyConfigured: STEWARD_LDAP_GROUP_ROLES: unknown role 'overlord'" in (
        started.stderr
    )
