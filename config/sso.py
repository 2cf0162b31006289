"""Single sign-on with OpenID Connect: turns the STEWARD_OIDC_* environment values into one
checked :class:`OidcProvider` and the OIDC_* settings mozilla-django-oidc reads.

Off unless ``STEWARD_OIDC_ISSUER`` is set. Everything here refuses a bad value with
ImproperlyConfigured, so a typo in a deployment stops start-up instead of locking everyone out
(or letting the wrong people in). The provider's endpoints are not configured: they come from
its discovery document, fetched at first use (``accounts.sso.discovery``). The tests build their
settings with :func:`oidc_settings`, so what they prove is what production runs.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from config.directory import DirectoryGrant, env_json_object, group_roles_parse, group_teams_parse
from config.env import env_bool, env_int, env_secret, env_str

OIDC_BACKEND = "accounts.sso.backend.OidcBackend"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
DEFAULT_SCOPES = "openid email profile"
DEFAULT_NAME = "SSO"
PROVIDER_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
_CLAIM = re.compile(r"^[A-Za-z0-9_:./-]{1,100}$")
_LOOPBACK_NAMES = {"localhost"}


def group_name_clean(value: str) -> str:
    """Group names from a provider are compared as they are (Entra sends object ids, Okta and
    Keycloak names or paths); only surrounding blanks are dropped."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"not a group name: {value!r}")
    return value.strip()


@dataclass(frozen=True)
class OidcProvider:
    """One OpenID Connect provider Steward signs people in with."""

    key: str  # in the login audit ("oidc:<key>") and on the identities it links
    name: str  # on the sign-in button: "Sign in with <name>"
    issuer: str
    client_id: str
    client_secret: str = ""
    scopes: str = DEFAULT_SCOPES
    username_claim: str = "preferred_username"
    email_claim: str = "email"
    name_claim: str = "name"
    groups_claim: str = "groups"
    group_roles: dict[str, tuple[DirectoryGrant, ...]] = field(default_factory=dict)
    group_teams: dict[str, str] = field(default_factory=dict)
    create_users: bool = True
    api_tokens: bool = True
    api_audience: str = ""
    timeout: int = 5
    clock_skew: int = 60

    @property
    def login_method(self) -> str:
        return f"oidc:{self.key}"

    @property
    def audience_for_api(self) -> str:
        return self.api_audience or self.client_id


def _check_issuer(issuer: str) -> str:
    """An https URL without query or fragment; plain http only on the loopback interface (a
    provider on the same machine, as in the tests), never across a network."""
    name = "STEWARD_OIDC_ISSUER"
    parts = urlsplit(issuer)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ImproperlyConfigured(f"{name} must be an https:// URL, got {issuer!r}")
    if parts.query or parts.fragment:
        raise ImproperlyConfigured(f"{name} must not have a query or fragment, got {issuer!r}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ImproperlyConfigured(
            f"{name} must use https:// (http:// only for a provider on this machine), "
            f"got {issuer!r}"
        )
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from exc
    return issuer


def is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_claim(value: str, name: str) -> str:
    if not _CLAIM.match(value):
        raise ImproperlyConfigured(f"{name} must be a claim name, got {value!r}")
    return value


def oidc_provider(
    *,
    issuer: str,
    client_id: str,
    client_secret: str = "",
    name: str = DEFAULT_NAME,
    key: str = "",
    scopes: str = DEFAULT_SCOPES,
    username_claim: str = "preferred_username",
    email_claim: str = "email",
    name_claim: str = "name",
    groups_claim: str = "groups",
    group_roles: object = None,
    group_teams: object = None,
    create_users: bool = True,
    api_tokens: bool = True,
    api_audience: str = "",
    timeout: int = 5,
    clock_skew: int = 60,
) -> OidcProvider:
    """One provider's settings, checked."""
    issuer = _check_issuer(issuer.strip())
    if not client_id:
        raise ImproperlyConfigured("STEWARD_OIDC_CLIENT_ID is required with STEWARD_OIDC_ISSUER")
    name = name.strip() or DEFAULT_NAME
    if len(name) > 60:
        raise ImproperlyConfigured(f"STEWARD_OIDC_NAME is longer than 60 characters: {name!r}")
    key = key.strip() or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:32] or "oidc"
    if not PROVIDER_KEY.match(key):
        raise ImproperlyConfigured(
            f"STEWARD_OIDC_PROVIDER must be lower-case letters, digits and '-' (at most 32), "
            f"got {key!r}"
        )
    scope_list = scopes.split()
    if "openid" not in scope_list:
        raise ImproperlyConfigured(f"STEWARD_OIDC_SCOPES must include openid, got {scopes!r}")
    if timeout < 1:
        raise ImproperlyConfigured(f"STEWARD_OIDC_TIMEOUT must be at least 1, got {timeout}")
    if not 0 <= clock_skew <= 600:
        raise ImproperlyConfigured(
            f"STEWARD_OIDC_CLOCK_SKEW must be between 0 and 600 seconds, got {clock_skew}"
        )
    return OidcProvider(
        key=key,
        name=name,
        issuer=issuer,
        client_id=client_id,
        client_secret=client_secret,
        scopes=" ".join(scope_list),
        username_claim=_check_claim(username_claim, "STEWARD_OIDC_USERNAME_CLAIM"),
        email_claim=_check_claim(email_claim, "STEWARD_OIDC_EMAIL_CLAIM"),
        name_claim=_check_claim(name_claim, "STEWARD_OIDC_NAME_CLAIM"),
        groups_claim=_check_claim(groups_claim, "STEWARD_OIDC_GROUPS_CLAIM"),
        group_roles=group_roles_parse(
            group_roles or {}, name="STEWARD_OIDC_GROUP_ROLES", normalize=group_name_clean
        ),
        group_teams=group_teams_parse(
            group_teams or {}, name="STEWARD_OIDC_GROUP_TEAMS", normalize=group_name_clean
        ),
        create_users=create_users,
        api_tokens=api_tokens,
        api_audience=api_audience.strip(),
        timeout=timeout,
        clock_skew=clock_skew,
    )


def oidc_provider_from_env() -> OidcProvider | None:
    """The provider the environment configures, or None when ``STEWARD_OIDC_ISSUER`` is unset.
    Any other STEWARD_OIDC_* variable set without the issuer stops start-up: it would
    otherwise be silently ignored."""
    issuer = env_str("STEWARD_OIDC_ISSUER").strip()
    if not issuer:
        stray = sorted(k for k in os.environ if k.split("_")[:2] == ["STEWARD", "OIDC"])
        stray = [name for name in stray if os.environ[name]]
        if stray:
            raise ImproperlyConfigured(
                f"{', '.join(stray)} set without STEWARD_OIDC_ISSUER (single sign-on is off)"
            )
        return None
    return oidc_provider(
        issuer=issuer,
        client_id=env_str("STEWARD_OIDC_CLIENT_ID").strip(),
        client_secret=env_secret("STEWARD_OIDC_CLIENT_SECRET"),
        name=env_str("STEWARD_OIDC_NAME", DEFAULT_NAME),
        key=env_str("STEWARD_OIDC_PROVIDER"),
        scopes=env_str("STEWARD_OIDC_SCOPES", DEFAULT_SCOPES),
        username_claim=env_str("STEWARD_OIDC_USERNAME_CLAIM", "preferred_username"),
        email_claim=env_str("STEWARD_OIDC_EMAIL_CLAIM", "email"),
        name_claim=env_str("STEWARD_OIDC_NAME_CLAIM", "name"),
        groups_claim=env_str("STEWARD_OIDC_GROUPS_CLAIM", "groups"),
        group_roles=env_json_object("STEWARD_OIDC_GROUP_ROLES"),
        group_teams=env_json_object("STEWARD_OIDC_GROUP_TEAMS"),
        create_users=env_bool("STEWARD_OIDC_CREATE_USERS", True),
        api_tokens=env_bool("STEWARD_OIDC_API_TOKENS", True),
        api_audience=env_str("STEWARD_OIDC_API_AUDIENCE"),
        timeout=env_int("STEWARD_OIDC_TIMEOUT", 5, minimum=1),
        clock_skew=env_int("STEWARD_OIDC_CLOCK_SKEW", 60, minimum=0),
    )


def with_oidc_backend(backends: list[str], provider: OidcProvider | None) -> list[str]:
    """``backends`` with the OIDC backend just before ModelBackend when a provider is
    configured. It authenticates only the callback of a sign-on it started (never a password),
    so its place matters only for ``get_user`` of its sessions."""
    backends = [backend for backend in backends if backend != OIDC_BACKEND]
    if provider is None:
        return backends
    position = backends.index(MODEL_BACKEND) if MODEL_BACKEND in backends else len(backends)
    return [*backends[:position], OIDC_BACKEND, *backends[position:]]


def oidc_settings(provider: OidcProvider | None, backends: list[str]) -> dict[str, Any]:
    """Settings for ``provider`` (None: single sign-on off): ``STEWARD_OIDC``, the
    authentication backends, and the OIDC_* names mozilla-django-oidc reads. The endpoints
    (OIDC_OP_*) are absent on purpose: ``accounts.sso`` takes them from discovery."""
    # (A setting, not an environment variable: spelt as a keyword so that the env example's
    # test, which looks for quoted STEWARD_* names, does not take it for one.)
    result: dict[str, Any] = dict(  # noqa: C408
        STEWARD_OIDC=provider, AUTHENTICATION_BACKENDS=with_oidc_backend(backends, provider)
    )
    if provider is None:
        return result
    result.update(
        {
            "OIDC_RP_CLIENT_ID": provider.client_id,
            "OIDC_RP_CLIENT_SECRET": provider.client_secret,
            "OIDC_RP_SCOPES": provider.scopes,
            "OIDC_RP_SIGN_ALGO": "RS256",
            "OIDC_USE_NONCE": True,
            "OIDC_USE_PKCE": True,
            "OIDC_PKCE_CODE_CHALLENGE_METHOD": "S256",
            "OIDC_TIMEOUT": provider.timeout,
            "OIDC_VERIFY_SSL": True,
            "OIDC_AUTHENTICATION_CALLBACK_URL": "oidc-callback",
            "OIDC_REDIRECT_FIELD_NAME": "next",
            "OIDC_STORE_ID_TOKEN": True,  # the hint for RP-initiated logout
            # client_secret_basic, the method every provider supports by default (Core 1.0,
            # 9); a public client (no secret) sends only its id and the PKCE verifier.
            "OIDC_TOKEN_USE_BASIC_AUTH": bool(provider.client_secret),
            "OIDC_CREATE_USER": provider.create_users,
        }
    )
    return result
