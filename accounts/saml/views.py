"""SAML pages: start a sign-on at the IdP (HTTP-Redirect binding), consume its signed answer
(HTTP-POST binding, cross-site: djangosaml2's own session cookie carries the outstanding
request), and serve Steward's metadata. Every refusal is recorded in the login audit with its
reason and shown on the sign-in page, where the password form keeps working."""

from __future__ import annotations

import logging

import saml2
from django.contrib import auth
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe
from djangosaml2.cache import IdentityCache, OutstandingQueriesCache
from djangosaml2.overrides import Saml2Client
from djangosaml2.utils import get_location
from saml2 import xmldsig
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor

from accounts.choices import SignOnRefusal
from accounts.saml.assertions import AssertionRefused, verified_claims
from accounts.saml.config import (
    IdpUnavailable,
    configured_provider,
    site_base,
    sp_config,
    sp_config_dict,
)
from accounts.saml.replay import (
    response_ids_peek,
    saml_message_used,
    saml_message_uses_prune,
    saml_messages_use,
)
from accounts.services.identities import SignOnRefused, sso_user_sync
from accounts.sso.views import _refuse, _safe_next

logger = logging.getLogger(__name__)

SAML_BACKEND = "django.contrib.auth.backends.ModelBackend"
SESSION_PROVIDER = "steward_sign_on_provider"


@require_safe
def saml_login(request: HttpRequest) -> HttpResponse:
    """Send the browser to the IdP with a signed AuthnRequest; ``next`` (when on this site)
    travels as RelayState and is kept with the outstanding request."""
    provider = configured_provider()
    next_url = request.GET.get("next", "")
    next_url = next_url if next_url and _safe_next(request, next_url) == next_url else ""
    try:
        config = sp_config(provider, request)
    except IdpUnavailable as exc:
        refused = SignOnRefused(SignOnRefusal.PROVIDER_UNREACHABLE, str(exc))
        return _refuse(request, provider, refused, next_url=next_url)
    idp = next(iter(config.metadata.identity_providers()))
    client = Saml2Client(config)
    try:
        session_id, info = client.prepare_for_authenticate(
            entityid=idp,
            relay_state=next_url,
            binding=saml2.BINDING_HTTP_REDIRECT,
            sign=True,
            sigalg=xmldsig.SIG_RSA_SHA256,
            digest_alg=xmldsig.DIGEST_SHA256,
        )
    except Exception as exc:  # noqa: BLE001 - e.g. no HTTP-Redirect endpoint in its metadata
        logger.warning("SAML AuthnRequest for %s failed: %s", idp, exc)
        refused = SignOnRefused(
            SignOnRefusal.PROVIDER_ERROR, f"no sign-on request could be made for {idp}"
        )
        return _refuse(request, provider, refused, next_url=next_url)
    OutstandingQueriesCache(request.saml_session).set(session_id, next_url)
    response = HttpResponseRedirect(get_location(info))
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt  # the IdP's cross-site POST; its signature is what authenticates it
@require_POST
def saml_acs(request: HttpRequest) -> HttpResponse:
    """The IdP posts its signed response here. Refused, with the reason audited: unsigned or
    wrongly signed assertions, another audience or recipient, expired ones, replays, and
    responses to no request this browser made."""
    provider = configured_provider()
    raw = request.POST.get("SAMLResponse", "")
    outstanding_cache = OutstandingQueriesCache(request.saml_session)
    outstanding = outstanding_cache.outstanding_queries()
    if not raw:
        refused = SignOnRefused(SignOnRefusal.MALFORMED, "no SAMLResponse in the request")
        return _refuse(request, provider, refused)
    peeked = response_ids_peek(raw)
    if peeked and saml_message_used(issuer=peeked[0], message_id=peeked[1]):
        refused = SignOnRefused(SignOnRefusal.REPLAY, f"response {peeked[1]} was used before")
        return _refuse(request, provider, refused)
    try:
        config = sp_config(provider, request)
    except IdpUnavailable as exc:
        refused = SignOnRefused(SignOnRefusal.PROVIDER_UNREACHABLE, str(exc))
        return _refuse(request, provider, refused)
    client = Saml2Client(config, identity_cache=IdentityCache(request.saml_session))
    try:
        response, claims = verified_claims(client, provider, raw, outstanding)
    except AssertionRefused as exc:
        return _refuse(request, provider, exc.refused)
    # Where to land is what this browser asked for when it started; the RelayState coming
    # back through the IdP is not trusted for it.
    next_url = outstanding.get(response.in_response_to) or ""
    outstanding_cache.delete(response.in_response_to)
    issuer = response.issuer() or ""
    if not saml_messages_use(issuer=issuer, message_ids=[response.id(), response.assertion.id]):
        refused = SignOnRefused(
            SignOnRefusal.REPLAY,
            f"assertion {response.assertion.id} was used before",
            subject=claims["sub"],
        )
        return _refuse(request, provider, refused)
    saml_message_uses_prune()  # an indexed delete of what expired days ago
    try:
        user = sso_user_sync(provider=provider, claims=claims)
    except SignOnRefused as refused:
        return _refuse(request, provider, refused, next_url=next_url)
    request.steward_sign_on = {"method": provider.login_method, "subject": claims["sub"]}
    user.backend = SAML_BACKEND
    auth.login(request, user)  # a new session key: nothing from before carries a privilege
    request.session[SESSION_PROVIDER] = provider.key
    return HttpResponseRedirect(_safe_next(request, next_url))


@require_safe
def saml_metadata(request: HttpRequest) -> HttpResponse:
    """Steward's SP metadata (entity id, signing certificate, assertion consumer address, the
    attributes it asks for), for the IdP's administrator to import."""
    provider = configured_provider()
    try:
        config = sp_config(provider, request)
    except IdpUnavailable:
        # The SP's own metadata does not depend on the IdP's: build it without it.

        settings_dict = sp_config_dict(provider, site_base(request))
        settings_dict.pop("metadata")
        config = SPConfig()
        config.load(settings_dict)
    return HttpResponse(str(entity_descriptor(config)), content_type="text/xml; charset=utf-8")
