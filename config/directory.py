"""Directory login (LDAP / Active Directory): turns the STEWARD_LDAP_* environment values into
django-auth-ldap's AUTH_LDAP_* settings, and parses the group -> team / role mappings that
``accounts.services.directory`` applies at each login.

Everything here refuses a bad value with ImproperlyConfigured, so a typo in a deployment stops
start-up instead of silently locking everyone out (or letting everyone in). The tests build
their settings with the same functions, so what they prove is what production runs.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ldap
import ldap.dn
from django.core.exceptions import ImproperlyConfigured
from django_auth_ldap import config as ldap_config

LDAP_BACKEND = "django_auth_ldap.backend.LDAPBackend"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
DEFAULT_USER_FILTER = "(uid=%(user)s)"
DEFAULT_GROUP_TYPE = "nestedGroupOfNames"
# Where each group type's groups live (objectClass) and which django-auth-ldap class reads them.
GROUP_TYPES: dict[str, tuple[str, str]] = {
    "groupOfNames": ("GroupOfNamesType", "(objectClass=groupOfNames)"),
    "nestedGroupOfNames": ("NestedGroupOfNamesType", "(objectClass=groupOfNames)"),
    "activeDirectory": ("NestedActiveDirectoryGroupType", "(objectClass=group)"),
}
# Directory attribute -> user field. displayName is what the pages show for a person.
USER_ATTR_MAP = {
    "first_name": "givenName",
    "last_name": "sn",
    "email": "mail",
    "display_name": "displayName",
}
_URI_SCHEMES = ("ldap://", "ldaps://", "ldapi://")
_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")


@dataclass(frozen=True)
class DirectoryGrant:
    """A role that membership of a directory group gives: everywhere (``team_slug`` None) or for
    one team."""

    role: str
    team_slug: str | None = None


def env_json_object(name: str) -> dict[str, Any]:
    """A JSON object from the environment; unset or blank is ``{}``."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"{name} must be a JSON object: {exc}") from exc
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object, got {type(value).__name__}")
    return value


def dn_normalize(dn: str) -> str:
    """One spelling per DN, so a mapping key matches whatever case and spacing the directory
    answers with: ``CN=Model Validators, OU=Groups,...`` -> ``cn=model validators,ou=groups,...``.
    Raises ValueError for something that is not a DN."""
    if not isinstance(dn, str) or not dn.strip():
        raise ValueError(f"not a distinguished name: {dn!r}")
    try:
        return ldap.dn.dn2str(ldap.dn.str2dn(dn.strip())).lower()
    except ldap.DECODING_ERROR as exc:
        raise ValueError(f"not a distinguished name: {dn!r}") from exc


def _mapping_key(dn: str, *, name: str, seen: set[str], normalize=None) -> str:
    try:
        key = (normalize or dn_normalize)(dn)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from exc
    if key in seen:
        raise ImproperlyConfigured(f"{name}: the group {dn!r} is listed twice")
    seen.add(key)
    return key


def _slug(value: object, *, name: str, where: str) -> str:
    if not isinstance(value, str) or not _SLUG.match(value):
        raise ImproperlyConfigured(
            f"{name}: {where} must be a team slug (letters, digits, - and _), got {value!r}"
        )
    return value


def group_roles_parse(mapping: object, *, name: str = "STEWARD_LDAP_GROUP_ROLES", normalize=None):
    """``{"<group DN>": "validator" | "contributor@credit-risk" | [several]}`` ->
    ``{normalised DN: (DirectoryGrant, ...)}``. ``normalize`` spells a group key the way it is
    compared (default: a DN, :func:`dn_normalize`; the single sign-on's group names are
    compared as they are)."""
    from accounts.choices import RoleName  # settings import this module: no app code at its top

    if not isinstance(mapping, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object of group DN -> role")
    parsed: dict[str, tuple[DirectoryGrant, ...]] = {}
    seen: set[str] = set()
    for dn, value in mapping.items():
        key = _mapping_key(dn, name=name, seen=seen, normalize=normalize)
        values = value if isinstance(value, list) else [value]
        grants = []
        for item in values:
            if not isinstance(item, str) or not item:
                raise ImproperlyConfigured(f"{name}: the role for {dn!r} must be a string")
            role, _, team = item.partition("@")
            if role not in RoleName.values:
                raise ImproperlyConfigured(
                    f"{name}: unknown role {role!r} for {dn!r}; "
                    f"one of {', '.join(RoleName.values)}, optionally @<team slug>"
                )
            team_slug = _slug(team, name=name, where=f"the team of {dn!r}") if team else None
            grants.append(DirectoryGrant(role=role, team_slug=team_slug))
        parsed[key] = tuple(grants)
    return parsed


def group_teams_parse(mapping: object, *, name: str = "STEWARD_LDAP_GROUP_TEAMS", normalize=None):
    """``{"<group DN>": "<team slug>"}`` -> ``{normalised DN: team slug}`` (``normalize`` as for
    :func:`group_roles_parse`)."""
    if not isinstance(mapping, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object of group DN -> team slug")
    seen: set[str] = set()
    return {
        _mapping_key(dn, name=name, seen=seen, normalize=normalize): _slug(
            slug, name=name, where=f"the team of {dn!r}"
        )
        for dn, slug in mapping.items()
    }


def _require_dn(value: str, name: str) -> str:
    try:
        dn_normalize(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from exc
    return value


def _check_server_uri(uri: str) -> None:
    # Several URIs separated by spaces are tried in turn (libldap's own fail-over).
    for part in uri.split():
        if not part.lower().startswith(_URI_SCHEMES):
            raise ImproperlyConfigured(
                f"STEWARD_LDAP_SERVER_URI must be ldap://, ldaps:// or ldapi:// URIs, got {part!r}"
            )


def _check_user_filter(user_filter: str) -> None:
    name = "STEWARD_LDAP_USER_FILTER"
    if "%(user)s" not in user_filter:
        raise ImproperlyConfigured(f"{name} must contain %(user)s, got {user_filter!r}")
    try:
        user_filter % {"user": "x"}
    except (KeyError, ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{name} is not a valid template: {exc}") from exc
    depth = 0
    for char in user_filter:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            break
    if depth != 0 or not (user_filter.startswith("(") and user_filter.endswith(")")):
        raise ImproperlyConfigured(f"{name} must be one parenthesised LDAP filter")


def auth_ldap_settings(
    *,
    server_uri: str,
    user_search_base: str,
    bind_dn: str = "",
    bind_password: str = "",
    user_filter: str = DEFAULT_USER_FILTER,
    group_search_base: str = "",
    group_type: str = DEFAULT_GROUP_TYPE,
    start_tls: bool = False,
    ca_file: str = "",
    timeout: int = 5,
    group_roles: object = None,
    group_teams: object = None,
) -> dict[str, Any]:
    """django-auth-ldap's settings for one directory, checked. Returns a dict of setting names
    to values for ``settings.py`` (or a test) to apply."""
    server_uri = server_uri.strip()
    _check_server_uri(server_uri)
    if not user_search_base:
        raise ImproperlyConfigured("STEWARD_LDAP_USER_SEARCH_BASE is required with LDAP on")
    _require_dn(user_search_base, "STEWARD_LDAP_USER_SEARCH_BASE")
    if bind_dn:
        _require_dn(bind_dn, "STEWARD_LDAP_BIND_DN")
    elif bind_password:
        raise ImproperlyConfigured("STEWARD_LDAP_BIND_PASSWORD is set without STEWARD_LDAP_BIND_DN")
    _check_user_filter(user_filter)
    if group_type not in GROUP_TYPES:
        raise ImproperlyConfigured(
            f"STEWARD_LDAP_GROUP_TYPE must be one of {', '.join(GROUP_TYPES)}, got {group_type!r}"
        )
    roles, teams = group_roles_parse(group_roles or {}), group_teams_parse(group_teams or {})
    if group_search_base:
        _require_dn(group_search_base, "STEWARD_LDAP_GROUP_SEARCH_BASE")
    elif roles or teams:
        raise ImproperlyConfigured(
            "STEWARD_LDAP_GROUP_SEARCH_BASE is required when groups are mapped to roles or teams"
        )
    if start_tls and server_uri.lower().startswith("ldaps://"):
        raise ImproperlyConfigured("STEWARD_LDAP_START_TLS is for ldap:// URIs; ldaps:// is TLS")
    if timeout < 1:
        raise ImproperlyConfigured(f"STEWARD_LDAP_TIMEOUT must be at least 1, got {timeout}")

    # Without both timeouts an unreachable or silent directory holds every login (and the web
    # worker serving it) for minutes: NETWORK_TIMEOUT bounds the TCP connect, TIMEOUT each
    # operation. Referrals are off because AD's referrals to other domains fail anonymously.
    options: dict[int, Any] = {
        ldap.OPT_NETWORK_TIMEOUT: timeout,
        ldap.OPT_TIMEOUT: timeout,
        ldap.OPT_REFERRALS: 0,
    }
    if ca_file:
        if not Path(ca_file).is_file():
            raise ImproperlyConfigured(f"STEWARD_LDAP_CA_FILE: no such file {ca_file!r}")
        options[ldap.OPT_X_TLS_CACERTFILE] = ca_file
        options[ldap.OPT_X_TLS_REQUIRE_CERT] = ldap.OPT_X_TLS_DEMAND
        options[ldap.OPT_X_TLS_NEWCTX] = 0  # last: applies the TLS options above

    group_class, group_filter = GROUP_TYPES[group_type]
    result: dict[str, Any] = {
        "AUTH_LDAP_SERVER_URI": server_uri,
        "AUTH_LDAP_BIND_DN": bind_dn,
        "AUTH_LDAP_BIND_PASSWORD": bind_password,
        # A search, not a DN template: the username is escaped into the filter by LDAPSearch,
        # and exactly one entry must match or the login fails.
        "AUTH_LDAP_USER_SEARCH": ldap_config.LDAPSearch(
            user_search_base, ldap.SCOPE_SUBTREE, user_filter
        ),
        "AUTH_LDAP_START_TLS": start_tls,
        "AUTH_LDAP_CONNECTION_OPTIONS": options,
        "AUTH_LDAP_USER_ATTR_MAP": dict(USER_ATTR_MAP),
        # Names, e-mail and group-derived roles follow the directory at every login.
        "AUTH_LDAP_ALWAYS_UPDATE_USER": True,
        # Permissions come from Steward's roles, not from Django groups named after LDAP ones.
        "AUTH_LDAP_FIND_GROUP_PERMS": False,
        "AUTH_LDAP_MIRROR_GROUPS": False,
        # A removed group member must lose the role at the next login, not after a cache expires.
        "AUTH_LDAP_CACHE_TIMEOUT": 0,
    }
    if group_search_base:
        result["AUTH_LDAP_GROUP_SEARCH"] = ldap_config.LDAPSearch(
            group_search_base, ldap.SCOPE_SUBTREE, group_filter
        )
        result["AUTH_LDAP_GROUP_TYPE"] = getattr(ldap_config, group_class)()
    return result


def with_ldap_backend(backends: list[str]) -> list[str]:
    """``backends`` with the directory asked just before ModelBackend: after whatever must run
    first (the login throttle), and before local passwords, so ModelBackend after it keeps local
    accounts working (and is where a login lands when the directory is down)."""
    backends = [backend for backend in backends if backend != LDAP_BACKEND]
    position = backends.index(MODEL_BACKEND) if MODEL_BACKEND in backends else 0
    return [*backends[:position], LDAP_BACKEND, *backends[position:]]
