"""Single sign-on with SAML 2.0: turns the STEWARD_SAML_* environment values into one checked
:class:`SamlProvider`, and that into the pysaml2 service-provider configuration djangosaml2's
views and middleware use.

Off unless ``STEWARD_SAML_ENTITY_ID`` is set. A bad value stops start-up with
ImproperlyConfigured. The security choices are fixed here, not configurable: assertions must be
signed (``want_assertions_signed``), unsolicited responses are refused, requests are signed,
and the clock skew accepted is bounded. The tests build their settings with
:func:`saml_provider` and :func:`saml_settings`, so what they prove is what production runs.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from config.directory import DirectoryGrant, env_json_object, group_roles_parse, group_teams_parse
from config.env import env_bool, env_int, env_str
from config.sso import PROVIDER_KEY, group_name_clean, is_loopback

DEFAULT_NAME = "SAML"
SAML_MIDDLEWARE = "djangosaml2.middleware.SamlSessionMiddleware"
SESSION_MIDDLEWARE = "django.contrib.sessions.middleware.SessionMiddleware"
# djangosaml2 keeps its outstanding requests in a session of its own, under its own cookie:
# the IdP's POST to the assertion consumer is cross-site, and Steward's session cookie stays
# SameSite=Lax (djangosaml2's documented approach).
SAML_COOKIE = "steward_saml"
_ATTRIBUTE = re.compile(r"^[A-Za-z0-9_:./#-]{1,200}$")


@dataclass(frozen=True)
class SamlProvider:
    """One SAML identity provider Steward (the service provider) signs people in with. The
    attribute names play the part of the OIDC claim names in the account sync."""

    key: str  # in the login audit ("saml:<key>") and on the identities it links
    name: str  # on the sign-in button: "Sign in with <name>"
    entity_id: str  # Steward's entity id (the audience the IdP must address)
    key_file: str
    cert_file: str
    idp_metadata_file: str = ""
    idp_metadata_url: str = ""
    username_claim: str = "uid"
    email_claim: str = "mail"
    name_claim: str = "displayName"
    groups_claim: str = "groups"
    group_roles: dict[str, tuple[DirectoryGrant, ...]] = field(default_factory=dict)
    group_teams: dict[str, str] = field(default_factory=dict)
    create_users: bool = True
    clock_skew: int = 60
    timeout: int = 5

    @property
    def login_method(self) -> str:
        return f"saml:{self.key}"

    @property
    def create_users_setting(self) -> str:
        return "STEWARD_SAML_CREATE_USERS"

    @property
    def grant_source(self) -> str:
        return "saml"  # accounts.choices.GrantSource.SAML (config imports no app)


def _check_file(path: str, name: str) -> str:
    path = path.strip()
    if not path:
        raise ImproperlyConfigured(f"{name} is required with STEWARD_SAML_ENTITY_ID")
    if not Path(path).is_file() or not os.access(path, os.R_OK):
        raise ImproperlyConfigured(f"{name}: {path} is not a readable file")
    return path


def _check_url(url: str, name: str, *, loopback_http: bool = True) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ImproperlyConfigured(f"{name} must be an https:// URL, got {url!r}")
    if parts.scheme == "http" and not (loopback_http and is_loopback(parts.hostname)):
        raise ImproperlyConfigured(
            f"{name} must use https:// (http:// only on this machine), got {url!r}"
        )
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from exc
    return url


def _check_attribute(value: str, name: str) -> str:
    value = value.strip()
    if not _ATTRIBUTE.match(value):
        raise ImproperlyConfigured(f"{name} must be a SAML attribute name, got {value!r}")
    return value


def saml_provider(
    *,
    entity_id: str,
    key_file: str,
    cert_file: str,
    idp_metadata_file: str = "",
    idp_metadata_url: str = "",
    name: str = DEFAULT_NAME,
    key: str = "",
    username_attribute: str = "uid",
    email_attribute: str = "mail",
    name_attribute: str = "displayName",
    groups_attribute: str = "groups",
    group_roles: object = None,
    group_teams: object = None,
    create_users: bool = True,
    clock_skew: int = 60,
    timeout: int = 5,
) -> SamlProvider:
    """One identity provider's settings, checked."""
    entity_id = entity_id.strip()
    if not re.match(r"^(https?://\S+|urn:\S+)$", entity_id) or len(entity_id) > 1024:
        raise ImproperlyConfigured(
            f"STEWARD_SAML_ENTITY_ID must be a URL or URN, got {entity_id!r}"
        )
    if bool(idp_metadata_file.strip()) == bool(idp_metadata_url.strip()):
        raise ImproperlyConfigured(
            "set exactly one of STEWARD_SAML_IDP_METADATA_FILE and STEWARD_SAML_IDP_METADATA_URL"
        )
    if idp_metadata_file.strip():
        idp_metadata_file = _check_file(idp_metadata_file, "STEWARD_SAML_IDP_METADATA_FILE")
    else:
        idp_metadata_url = _check_url(idp_metadata_url.strip(), "STEWARD_SAML_IDP_METADATA_URL")
    name = name.strip() or DEFAULT_NAME
    if len(name) > 60:
        raise ImproperlyConfigured(f"STEWARD_SAML_NAME is longer than 60 characters: {name!r}")
    key = key.strip() or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:32] or "saml"
    if not PROVIDER_KEY.match(key):
        raise ImproperlyConfigured(
            f"STEWARD_SAML_PROVIDER must be lower-case letters, digits and '-' (at most 32), "
            f"got {key!r}"
        )
    if not 0 <= clock_skew <= 600:
        raise ImproperlyConfigured(
            f"STEWARD_SAML_CLOCK_SKEW must be between 0 and 600 seconds, got {clock_skew}"
        )
    if timeout < 1:
        raise ImproperlyConfigured(f"STEWARD_SAML_TIMEOUT must be at least 1, got {timeout}")
    return SamlProvider(
        key=key,
        name=name,
        entity_id=entity_id,
        key_file=_check_file(key_file, "STEWARD_SAML_KEY_FILE"),
        cert_file=_check_file(cert_file, "STEWARD_SAML_CERT_FILE"),
        idp_metadata_file=idp_metadata_file,
        idp_metadata_url=idp_metadata_url,
        username_claim=_check_attribute(username_attribute, "STEWARD_SAML_USERNAME_ATTRIBUTE"),
        email_claim=_check_attribute(email_attribute, "STEWARD_SAML_EMAIL_ATTRIBUTE"),
        name_claim=_check_attribute(name_attribute, "STEWARD_SAML_NAME_ATTRIBUTE"),
        groups_claim=_check_attribute(groups_attribute, "STEWARD_SAML_GROUPS_ATTRIBUTE"),
        group_roles=group_roles_parse(
            group_roles or {}, name="STEWARD_SAML_GROUP_ROLES", normalize=group_name_clean
        ),
        group_teams=group_teams_parse(
            group_teams or {}, name="STEWARD_SAML_GROUP_TEAMS", normalize=group_name_clean
        ),
        create_users=create_users,
        clock_skew=clock_skew,
        timeout=timeout,
    )


def saml_provider_from_env() -> SamlProvider | None:
    """The provider the environment configures, or None when ``STEWARD_SAML_ENTITY_ID`` is
    unset. Any other STEWARD_SAML_* variable set without it stops start-up."""
    entity_id = env_str("STEWARD_SAML_ENTITY_ID").strip()
    if not entity_id:
        stray = sorted(
            k for k in os.environ if k.split("_")[:2] == ["STEWARD", "SAML"] and os.environ[k]
        )
        if stray:
            raise ImproperlyConfigured(
                f"{', '.join(stray)} set without STEWARD_SAML_ENTITY_ID (SAML sign-on is off)"
            )
        return None
    return saml_provider(
        entity_id=entity_id,
        key_file=env_str("STEWARD_SAML_KEY_FILE"),
        cert_file=env_str("STEWARD_SAML_CERT_FILE"),
        idp_metadata_file=env_str("STEWARD_SAML_IDP_METADATA_FILE"),
        idp_metadata_url=env_str("STEWARD_SAML_IDP_METADATA_URL"),
        name=env_str("STEWARD_SAML_NAME", DEFAULT_NAME),
        key=env_str("STEWARD_SAML_PROVIDER"),
        username_attribute=env_str("STEWARD_SAML_USERNAME_ATTRIBUTE", "uid"),
        email_attribute=env_str("STEWARD_SAML_EMAIL_ATTRIBUTE", "mail"),
        name_attribute=env_str("STEWARD_SAML_NAME_ATTRIBUTE", "displayName"),
        groups_attribute=env_str("STEWARD_SAML_GROUPS_ATTRIBUTE", "groups"),
        group_roles=env_json_object("STEWARD_SAML_GROUP_ROLES"),
        group_teams=env_json_object("STEWARD_SAML_GROUP_TEAMS"),
        create_users=env_bool("STEWARD_SAML_CREATE_USERS", True),
        clock_skew=env_int("STEWARD_SAML_CLOCK_SKEW", 60, minimum=0),
        timeout=env_int("STEWARD_SAML_TIMEOUT", 5, minimum=1),
    )


def with_saml_middleware(middleware: list[str]) -> list[str]:
    """``middleware`` with djangosaml2's session middleware right after Django's. Always
    present (it costs nothing until a SAML view touches its session), so a provider configured
    later, as the tests do, finds it."""
    middleware = [name for name in middleware if name != SAML_MIDDLEWARE]
    position = middleware.index(SESSION_MIDDLEWARE) + 1 if SESSION_MIDDLEWARE in middleware else 0
    return [*middleware[:position], SAML_MIDDLEWARE, *middleware[position:]]


def saml_settings(
    provider: SamlProvider | None,
    middleware: list[str],
    *,
    oidc_key: str | None = None,
    secure_cookies: bool = False,
) -> dict[str, Any]:
    """Settings for ``provider`` (None: SAML off). The pysaml2 configuration itself is built
    per request (:func:`accounts.saml.config.sp_config`): its endpoints are absolute URLs."""
    if provider is not None and oidc_key is not None and provider.key == oidc_key:
        raise ImproperlyConfigured(
            f"STEWARD_SAML_PROVIDER and STEWARD_OIDC_PROVIDER are both {provider.key!r}: the "
            "linked identities of the two would mix; give them different keys"
        )
    # (Keywords, not quoted names: the env example's test looks for quoted STEWARD_* names.)
    return dict(  # noqa: C408
        STEWARD_SAML=provider,
        MIDDLEWARE=with_saml_middleware(middleware),
        SAML_SESSION_COOKIE_NAME=SAML_COOKIE,
        # SameSite=None so the IdP's cross-site POST carries it; browsers accept that only on
        # a Secure cookie, so plain-http development (same site anyway) keeps Lax.
        SAML_SESSION_COOKIE_SAMESITE="None" if secure_cookies else "Lax",
    )
