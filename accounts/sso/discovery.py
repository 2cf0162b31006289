"""The provider's discovery document and signing keys, fetched at first use and cached.

mozilla-django-oidc wants every endpoint in settings; Steward is configured with the issuer
only and reads ``<issuer>/.well-known/openid-configuration`` (OpenID Connect Discovery 1.0)
once per process, with a timeout, refreshing it after ``DISCOVERY_TTL``. The JWKS is cached
likewise and fetched again when a token names a key it does not hold (the provider rotated its
keys), at most once per ``JWKS_REFETCH_INTERVAL``, so forged key ids cannot make Steward hammer
the provider.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import requests

from config.sso import OidcProvider

logger = logging.getLogger(__name__)

DISCOVERY_TTL = 3600
JWKS_TTL = 3600
JWKS_REFETCH_INTERVAL = 30
_REQUIRED = ("authorization_endpoint", "token_endpoint", "jwks_uri")

_lock = threading.Lock()
_discovered: dict[str, tuple[float, ProviderEndpoints]] = {}
_keys: dict[str, tuple[float, dict]] = {}


class ProviderUnavailable(Exception):
    """The provider could not be asked, or answered something unusable."""


@dataclass(frozen=True)
class ProviderEndpoints:
    """What discovery says about the provider."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str = ""
    end_session_endpoint: str = ""


def provider_endpoints(provider: OidcProvider) -> ProviderEndpoints:
    """The provider's endpoints, from the cache or its discovery document. Raises
    ProviderUnavailable when it cannot be fetched or does not describe this issuer."""
    now = time.monotonic()
    cached = _discovered.get(provider.issuer)
    if cached and now - cached[0] < DISCOVERY_TTL:
        return cached[1]
    url = provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
    document = _fetch_json(url, provider.timeout)
    endpoints = _endpoints_from(document, provider)
    with _lock:
        _discovered[provider.issuer] = (now, endpoints)
    return endpoints


def _endpoints_from(document: dict, provider: OidcProvider) -> ProviderEndpoints:
    missing = [name for name in _REQUIRED if not isinstance(document.get(name), str)]
    if missing:
        raise ProviderUnavailable(f"the discovery document lacks {', '.join(missing)}")
    issuer = document.get("issuer")
    # The document must be about the issuer Steward was configured with (Discovery 1.0, 4.3):
    # otherwise tokens signed for another issuer could be accepted.
    if not isinstance(issuer, str) or issuer.rstrip("/") != provider.issuer.rstrip("/"):
        raise ProviderUnavailable(
            f"the discovery document names issuer {issuer!r}, not {provider.issuer!r}"
        )
    return ProviderEndpoints(
        issuer=issuer,
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        jwks_uri=document["jwks_uri"],
        userinfo_endpoint=str(document.get("userinfo_endpoint") or ""),
        end_session_endpoint=str(document.get("end_session_endpoint") or ""),
    )


def provider_signing_keys(provider: OidcProvider, *, refresh: bool = False) -> dict:
    """The provider's JWKS (``{"keys": [...]}``), cached; ``refresh`` asks again unless it was
    asked within the last ``JWKS_REFETCH_INTERVAL`` seconds."""
    endpoints = provider_endpoints(provider)
    now = time.monotonic()
    cached = _keys.get(endpoints.jwks_uri)
    if cached:
        age = now - cached[0]
        if age < JWKS_TTL and not (refresh and age >= JWKS_REFETCH_INTERVAL):
            return cached[1]
    document = _fetch_json(endpoints.jwks_uri, provider.timeout)
    if not isinstance(document.get("keys"), list):
        raise ProviderUnavailable("the provider's JWKS has no keys")
    with _lock:
        _keys[endpoints.jwks_uri] = (now, document)
    return document


def provider_cache_clear() -> None:
    """Forget what was discovered (tests; a changed provider)."""
    with _lock:
        _discovered.clear()
        _keys.clear()


def _fetch_json(url: str, timeout: int) -> dict:
    try:
        response = requests.get(url, timeout=timeout, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
    except requests.RequestException as exc:
        logger.error("OIDC provider unreachable at %s: %s", url, exc)
        raise ProviderUnavailable(_describe(exc)) from exc
    except ValueError as exc:
        raise ProviderUnavailable(f"{url} did not answer JSON") from exc
    if not isinstance(document, dict):
        raise ProviderUnavailable(f"{url} did not answer a JSON object")
    return document


def _describe(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "it did not answer in time"
    if isinstance(exc, requests.ConnectionError):
        return "the connection was refused or failed"
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"it answered HTTP {exc.response.status_code}"
    return type(exc).__name__
