"""How API clients prove who they are: personal bearer tokens, and Basic auth with the same
failed-login throttle as the sign-in page. Both name the real user as actor of the audit
entries the request writes (see ``core.audit``)."""

from __future__ import annotations

from drf_spectacular.authentication import BasicScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from accounts.choices import LoginMethod
from accounts.services.login_audit import (
    DIRECTORY_UNREACHABLE_MESSAGE,
    directory_error_of,
    login_success_record_daily,
    login_throttle_check,
)
from accounts.services.tokens import TokenRefused, token_authenticate
from accounts.sso.api import provider_bearer_authenticate
from accounts.sso.tokens import looks_like_jwt
from core.audit import AuditedBasicAuthentication, audit_bind_actor


class BearerTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer stw_...``: the request acts as the token's user, within the
    token's scopes (``accounts.api.permissions.TokenScopePermission``); ``request.auth`` is the
    ``ApiToken``. A bearer that is a JWT is the single sign-on provider's access token instead
    (:mod:`accounts.sso.api`): ``request.auth`` is then a ``ProviderAccessToken``."""

    keyword = b"bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid bearer header: expected 'Authorization: Bearer <token>'."
            )
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid API token.") from exc
        if looks_like_jwt(secret):
            # Not a Steward token (stw_...): an access token of the single sign-on provider.
            return provider_bearer_authenticate(request, secret)
        try:
            token = token_authenticate(secret, request=request)
        except TokenRefused as exc:
            raise exceptions.AuthenticationFailed(exc.message) from exc
        audit_bind_actor(token.user)
        return token.user, token

    def authenticate_header(self, request):
        # DRF asks only the first authentication class for a 401's challenge. A client that
        # presented credentials gets a 401 challenging the scheme it used; a request without any
        # keeps the API's 403, so browsers are never prompted for a password.
        scheme = get_authorization_header(request).split()[:1]
        if scheme and scheme[0].lower() == self.keyword:
            return 'Bearer realm="api"'
        if scheme and scheme[0].lower() == b"basic":
            return 'Basic realm="api"'
        return None


class ThrottledBasicAuthentication(AuditedBasicAuthentication):
    """Basic auth (for scripts) that honours the failed-login throttle before checking the
    password (429 with the reason), says so when the directory is unreachable, and records the
    user's first Basic sign-in of the day. Failures are recorded by the ``user_login_failed``
    receiver, as for the sign-in page."""

    def authenticate_credentials(self, userid, password, request=None):
        throttle = login_throttle_check(request=request, username=userid)
        if throttle:
            refusal = exceptions.Throttled(detail=throttle.message)
            refusal.wait = throttle.seconds
            raise refusal
        try:
            user, auth = super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed as exc:
            if directory_error_of(request):
                raise exceptions.AuthenticationFailed(DIRECTORY_UNREACHABLE_MESSAGE) from exc
            raise
        method = LoginMethod.LDAP if "ldap" in getattr(user, "backend", "").lower() else None
        login_success_record_daily(
            request=request, user=user, method=method or LoginMethod.PASSWORD
        )
        return user, auth


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "A personal API token (stw_...), created at /account/tokens/, or an access "
                "token of the single sign-on provider (a JWT for Steward's audience)."
            ),
        }


class ThrottledBasicScheme(BasicScheme):
    target_class = "accounts.authentication.ThrottledBasicAuthentication"
