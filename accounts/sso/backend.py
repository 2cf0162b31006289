"""The OpenID Connect authentication backend: mozilla-django-oidc's, fed by discovery instead of
OIDC_OP_* settings, with Steward's stricter token checks and its account sync.

It signs nobody in by password: ``authenticate`` acts only when the callback view hands it the
nonce and PKCE verifier of a sign-on this browser started. Permissions are not its business
(roles and guardian answer them), so it answers none.
"""

from __future__ import annotations

import logging

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import absolutify

from accounts.choices import SignOnRefusal
from accounts.services.identities import SignOnRefused, sso_user_sync
from accounts.sso.discovery import ProviderUnavailable, provider_endpoints
from accounts.sso.tokens import provider_token_verify
from config.sso import OidcProvider

logger = logging.getLogger(__name__)


class OidcBackend(OIDCAuthenticationBackend):
    """Completes a sign-on: exchanges the code (with the PKCE verifier), verifies the ID token
    (signature, issuer, audience, expiry, nonce), reads the user info, and returns the synced
    account. Refusals raise SignOnRefused with the reason, for the login audit."""

    def __init__(self, *args, **kwargs):
        # Django makes one of these for every request of a signed-in user (get_user): nothing
        # here may ask the provider. The endpoints are looked up when a sign-on completes.
        self.UserModel = get_user_model()

    @property
    def provider(self) -> OidcProvider | None:
        return getattr(settings, "STEWARD_OIDC", None)

    def authenticate(self, request, oidc_nonce=None, oidc_code_verifier=None, **kwargs):
        provider = self.provider
        if request is None or provider is None or oidc_nonce is None:
            return None  # a password sign-in, or single sign-on is off
        code = request.GET.get("code", "")
        self.request = request
        self._configure(provider)
        token_info = self._exchange(code, oidc_code_verifier)
        id_token = token_info.get("id_token")
        if not isinstance(id_token, str):
            raise SignOnRefused(SignOnRefusal.PROVIDER_ERROR, "the token answer has no id_token")
        claims = provider_token_verify(
            provider, id_token, audience=provider.client_id, nonce=oidc_nonce
        )
        claims = self._with_userinfo(claims, token_info.get("access_token"))
        user = sso_user_sync(provider=provider, claims=claims)
        self.verified_claims = claims
        self.id_token = id_token
        return user

    def _configure(self, provider: OidcProvider) -> None:
        try:
            endpoints = provider_endpoints(provider)
        except ProviderUnavailable as exc:
            raise SignOnRefused(SignOnRefusal.PROVIDER_UNREACHABLE, str(exc)) from exc
        self.OIDC_OP_TOKEN_ENDPOINT = endpoints.token_endpoint
        self.OIDC_OP_USER_ENDPOINT = endpoints.userinfo_endpoint
        self.OIDC_OP_JWKS_ENDPOINT = endpoints.jwks_uri
        self.OIDC_RP_CLIENT_ID = provider.client_id
        self.OIDC_RP_CLIENT_SECRET = provider.client_secret
        self.OIDC_RP_SIGN_ALGO = "RS256"
        self.OIDC_RP_IDP_SIGN_KEY = None

    def _exchange(self, code: str, code_verifier: str | None) -> dict:
        """The token endpoint's answer for ``code`` (mozilla-django-oidc's request)."""
        payload = {
            "client_id": self.OIDC_RP_CLIENT_ID,
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": absolutify(self.request, reverse("oidc-callback")),
        }
        if self.OIDC_RP_CLIENT_SECRET:
            payload["client_secret"] = self.OIDC_RP_CLIENT_SECRET
        if code_verifier:
            payload["code_verifier"] = code_verifier
        try:
            answer = self.get_token(payload)
        except requests.HTTPError as exc:
            raise _token_error(exc.response) from exc
        except requests.RequestException as exc:
            raise SignOnRefused(
                SignOnRefusal.PROVIDER_UNREACHABLE, f"token endpoint: {type(exc).__name__}"
            ) from exc
        except ValueError as exc:
            raise SignOnRefused(
                SignOnRefusal.PROVIDER_ERROR, "the token endpoint did not answer JSON"
            ) from exc
        if not isinstance(answer, dict):
            raise SignOnRefused(SignOnRefusal.PROVIDER_ERROR, "the token answer is not an object")
        return answer

    def _with_userinfo(self, claims: dict, access_token) -> dict:
        """The ID token's claims, completed by the user info endpoint's (some providers put
        groups or e-mail only there). The ID token's own claims win; a user info answer about
        another subject is refused (Core 1.0, 5.3.2)."""
        if not self.OIDC_OP_USER_ENDPOINT or not isinstance(access_token, str):
            return claims
        try:
            info = self.get_userinfo(access_token, None, None)
        except (requests.RequestException, ValueError) as exc:
            logger.warning("OIDC user info unavailable, using the ID token's claims: %s", exc)
            return claims
        if not isinstance(info, dict):
            return claims
        if info.get("sub") != claims.get("sub"):
            raise SignOnRefused(
                SignOnRefusal.CLAIMS,
                "the user info is about another subject than the ID token",
                subject=str(claims.get("sub", "")),
            )
        return {**info, **claims}

    def verify_token(self, token, **kwargs):
        # mozilla-django-oidc's own check skips the audience; a signed user info answer is
        # held to the same checks as the ID token (without the nonce, which it does not carry).
        return provider_token_verify(self.provider, token, audience=self.OIDC_RP_CLIENT_ID)

    # Not a permission backend: roles and guardian answer those.
    def get_user_permissions(self, user_obj, obj=None):
        return set()

    def get_group_permissions(self, user_obj, obj=None):
        return set()

    def get_all_permissions(self, user_obj, obj=None):
        return set()

    def has_perm(self, user_obj, perm, obj=None):
        return False

    def has_module_perms(self, user_obj, app_label):
        return False

    def with_perm(self, perm, is_active=True, include_superusers=True, obj=None):
        return self.UserModel._default_manager.none()


def _token_error(response) -> SignOnRefused:
    """A refusal of the token endpoint. ``invalid_grant`` is a code used before (a replay),
    expired, or issued for another redirect or verifier (RFC 6749, 5.2)."""
    error = description = ""
    try:
        body = response.json()
        error, description = str(body.get("error", "")), str(body.get("error_description", ""))
    except (ValueError, AttributeError):
        pass
    status = getattr(response, "status_code", "?")
    if error == "invalid_grant":
        return SignOnRefused(
            SignOnRefusal.CODE_REFUSED,
            f"the provider refused the code ({description or error}): replayed or expired",
        )
    return SignOnRefused(
        SignOnRefusal.PROVIDER_ERROR,
        f"the token endpoint answered HTTP {status} {error} {description}".strip(),
    )
