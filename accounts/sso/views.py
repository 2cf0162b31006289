"""Single sign-on pages: start a sign-on at the provider, complete it on its way back, and sign
out of both. Each refusal is recorded in the login audit with its reason and shown on the
sign-in page, where the password form keeps working."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.views import LoginView, LogoutView
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_safe
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from accounts.choices import LoginOutcome, SignOnRefusal
from accounts.services.identities import SignOnRefused
from accounts.services.login_audit import login_event_record
from accounts.sso.backend import OidcBackend
from accounts.sso.discovery import ProviderUnavailable, provider_endpoints
from config.sso import OIDC_BACKEND, OidcProvider

logger = logging.getLogger(__name__)

SESSION_ID_TOKEN = "oidc_id_token"
SESSION_PROVIDER = "steward_sign_on_provider"
SESSION_NEXT = "oidc_login_next"


def _provider() -> OidcProvider:
    provider = getattr(settings, "STEWARD_OIDC", None)
    if provider is None:
        raise Http404("Single sign-on is not configured.")
    return provider


class StewardLoginView(LoginView):
    """The sign-in page: the password form, and "Sign in with <provider>" when one is
    configured."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["oidc_provider"] = getattr(settings, "STEWARD_OIDC", None)
        context["saml_provider"] = getattr(settings, "STEWARD_SAML", None)
        return context


class OidcStartView(OIDCAuthenticationRequestView):
    """Send the browser to the provider's authorization endpoint with a fresh state, nonce
    and PKCE challenge (mozilla-django-oidc's view; the endpoint comes from discovery). The
    ``next`` page is kept, if it is on this site, for after the provider."""

    def __init__(self, **kwargs):
        # The parent reads OIDC_OP_AUTHORIZATION_ENDPOINT from settings here; ours is
        # discovered when a sign-on starts.
        super(OIDCAuthenticationRequestView, self).__init__(**kwargs)

    def get(self, request):
        provider = _provider()
        try:
            endpoints = provider_endpoints(provider)
        except ProviderUnavailable as exc:
            refused = SignOnRefused(SignOnRefusal.PROVIDER_UNREACHABLE, str(exc))
            return _refuse(request, provider, refused, next_url=request.GET.get("next", ""))
        self.OIDC_OP_AUTH_ENDPOINT = endpoints.authorization_endpoint
        self.OIDC_RP_CLIENT_ID = provider.client_id
        return super().get(request)


@require_safe
def oidc_callback(request: HttpRequest) -> HttpResponse:
    """The provider sends the browser back here with a code (or an error) and the state.
    The state must be one this browser's session started (it is used up either way); the
    backend then exchanges the code and checks the tokens."""
    provider = _provider()
    states = request.session.get("oidc_states")
    states = states if isinstance(states, dict) else {}
    state = request.GET.get("state", "")
    started = states.pop(state, None) if state else None
    next_url = request.session.pop(SESSION_NEXT, None) or ""
    request.session["oidc_states"] = states  # used up: a second callback with it is refused
    if request.GET.get("error"):
        error = request.GET.get("error", "")[:100]
        description = request.GET.get("error_description", "")[:150]
        refused = SignOnRefused(
            SignOnRefusal.PROVIDER_ERROR, f"the provider answered {error}: {description}"
        )
        return _refuse(request, provider, refused, next_url=next_url)
    if not isinstance(started, dict) or not request.GET.get("code"):
        refused = SignOnRefused(
            SignOnRefusal.BAD_STATE,
            "the state is unknown or was used before, or the code is missing",
        )
        return _refuse(request, provider, refused)
    backend = OidcBackend()
    try:
        user = backend.authenticate(
            request,
            oidc_nonce=str(started.get("nonce") or ""),
            oidc_code_verifier=started.get("code_verifier"),
        )
    except SignOnRefused as refused:
        return _refuse(request, provider, refused, next_url=next_url)
    subject = str(backend.verified_claims.get("sub", ""))
    request.steward_sign_on = {"method": provider.login_method, "subject": subject}
    user.backend = OIDC_BACKEND
    auth.login(request, user)  # a new session key: nothing from before carries a privilege
    request.session[SESSION_ID_TOKEN] = backend.id_token
    request.session[SESSION_PROVIDER] = provider.key
    return HttpResponseRedirect(_safe_next(request, next_url))


def _safe_next(request: HttpRequest, next_url: str) -> str:
    """``next`` when it is a page of this site; the default landing page otherwise (no open
    redirect, even if the session was tampered with)."""
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _refuse(
    request: HttpRequest, provider: OidcProvider, refused: SignOnRefused, *, next_url: str = ""
) -> HttpResponse:
    """Record the refusal with its reason, tell the person on the sign-in page, and leave
    them there (signed out of nothing: a refused sign-on changes no session)."""
    unreachable = refused.reason == SignOnRefusal.PROVIDER_UNREACHABLE
    login_event_record(
        request=request,
        username=refused.username or "",
        method=provider.login_method,
        outcome=LoginOutcome.ERROR if unreachable else LoginOutcome.FAILURE,
        detail=refused.detail,
        subject=refused.subject,
    )
    logger.warning("single sign-on with %s refused: %s", provider.key, refused.detail)
    if unreachable:
        text = (
            f"{provider.name} could not be reached ({refused.message}). Sign-in with "
            f"{provider.name} is unavailable right now; local accounts can still sign in below."
        )
    else:
        text = f"Sign-in with {provider.name} was refused: {_explain(refused)}"
    messages.error(request, text)
    login_url = reverse("login")
    if next_url:
        login_url += "?" + urlencode({"next": next_url})
    return HttpResponseRedirect(login_url)


def _explain(refused: SignOnRefused) -> str:
    if refused.reason in (SignOnRefusal.UNKNOWN_USER, SignOnRefusal.EXISTING_ACCOUNT):
        return "there is no Steward account for you yet. Ask an administrator to link one."
    if refused.reason == SignOnRefusal.INACTIVE:
        return "your Steward account is deactivated."
    if refused.reason == SignOnRefusal.BAD_STATE:
        return "this sign-in was not started here, or was already used. Please try again."
    return f"{SignOnRefusal(refused.reason).label.lower()}. Please try again."


class StewardLogoutView(LogoutView):
    """Sign out of Steward (POST only) and, after a single sign-on, of the provider too when
    its discovery names an end_session_endpoint (RP-initiated logout 1.0): the browser goes
    there (from a page that sends it on) with the ID token as hint and comes back to the
    sign-in page."""

    def post(self, request, *args, **kwargs):
        id_token = request.session.get(SESSION_ID_TOKEN)
        provider_key = request.session.get(SESSION_PROVIDER)
        response = super().post(request, *args, **kwargs)
        provider = getattr(settings, "STEWARD_OIDC", None)
        if not (id_token and provider and provider_key == provider.key):
            return response
        try:
            end_session = provider_endpoints(provider).end_session_endpoint
        except ProviderUnavailable:
            return response  # Steward's session has ended; the provider's cannot be reached
        if not end_session:
            return response
        params = {
            "id_token_hint": id_token,
            "client_id": provider.client_id,
            "post_logout_redirect_uri": request.build_absolute_uri(
                resolve_url(settings.LOGOUT_REDIRECT_URL)
            ),
        }
        separator = "&" if "?" in end_session else "?"
        end_session_url = f"{end_session}{separator}{urlencode(params)}"
        # A page that sends the browser on, not a redirect: the sign-out form's page allows
        # form submissions to this site only (CSP form-action 'self'), which Chromium applies
        # to where the submission redirects too.
        response = render(
            request,
            "registration/sso_logged_out.html",
            {"provider": provider, "end_session_url": end_session_url},
        )
        response["Cache-Control"] = "no-store"
        return response
