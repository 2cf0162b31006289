"""The pysaml2 service-provider configuration of the configured :class:`SamlProvider`.

Built per site address (its endpoints are absolute URLs: the assertion consumer address is
the recipient the IdP must name) and kept for a few minutes, so the IdP's metadata URL is not
fetched on every sign-on. The security choices are fixed here: signed assertions required,
signed requests, no unsolicited responses, the clock skew the provider allows."""

from __future__ import annotations

import logging
import threading
import time

import saml2
from django.conf import settings
from django.http import Http404, HttpRequest
from django.urls import reverse
from saml2 import xmldsig
from saml2.config import SPConfig
from saml2.saml import NAMEID_FORMAT_PERSISTENT

from config.saml import SamlProvider

logger = logging.getLogger(__name__)

CACHE_SECONDS = 600
_cache: dict[tuple[str, str], tuple[float, SPConfig]] = {}
_lock = threading.Lock()


class IdpUnavailable(Exception):
    """The IdP's metadata could not be loaded (its URL down, or a file that does not parse)."""


def configured_provider() -> SamlProvider:
    provider = getattr(settings, "STEWARD_SAML", None)
    if provider is None:
        raise Http404("SAML sign-on is not configured.")
    return provider


def site_base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def sp_config_dict(provider: SamlProvider, base: str) -> dict:
    """pysaml2's configuration for Steward at ``base`` (scheme and host)."""
    requested = [provider.username_claim]
    optional = [
        name
        for name in (provider.email_claim, provider.name_claim, provider.groups_claim)
        if name not in requested
    ]
    metadata = (
        {"local": [provider.idp_metadata_file]}
        if provider.idp_metadata_file
        else {"remote": [{"url": provider.idp_metadata_url}]}
    )
    return {
        "entityid": provider.entity_id,
        "key_file": provider.key_file,
        "cert_file": provider.cert_file,
        "encryption_keypairs": [{"key_file": provider.key_file, "cert_file": provider.cert_file}],
        "metadata": metadata,
        "http_client_timeout": provider.timeout,
        "accepted_time_diff": provider.clock_skew,
        "allow_unknown_attributes": True,
        "service": {
            "sp": {
                "name": provider.name,
                "endpoints": {
                    "assertion_consumer_service": [
                        (base + reverse("saml-acs"), saml2.BINDING_HTTP_POST)
                    ],
                },
                "want_assertions_signed": True,
                "want_response_signed": False,
                "authn_requests_signed": True,
                "signing_algorithm": xmldsig.SIG_RSA_SHA256,
                "digest_algorithm": xmldsig.DIGEST_SHA256,
                "allow_unsolicited": False,
                "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                "name_id_format_allow_create": True,
                "required_attributes": requested,
                "optional_attributes": optional,
            }
        },
    }


def sp_config(provider: SamlProvider, request: HttpRequest) -> SPConfig:
    """The configuration for this request's site, loaded at most every CACHE_SECONDS.
    IdpUnavailable when the IdP's metadata cannot be had."""
    base = site_base(request)
    cache_key = (repr(provider), base)  # the provider holds dicts: not hashable
    now = time.monotonic()
    with _lock:
        cached = _cache.get(cache_key)
    if cached and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    config = SPConfig()
    try:
        config.load(sp_config_dict(provider, base))
    except Exception as exc:  # pysaml2 raises whatever its HTTP client or XML parser raised
        where = provider.idp_metadata_url or provider.idp_metadata_file
        logger.warning("SAML IdP metadata from %s unavailable: %s", where, exc)
        raise IdpUnavailable(f"its metadata could not be loaded from {where}") from exc
    if not list(config.metadata.identity_providers()):
        raise IdpUnavailable("its metadata names no identity provider")
    with _lock:
        _cache[cache_key] = (now, config)
    return config


def sp_config_cache_clear() -> None:
    with _lock:
        _cache.clear()
