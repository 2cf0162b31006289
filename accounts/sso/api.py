"""The provider's access tokens on the API: a pipeline with a workload identity (or a person's
CLI) sends ``Authorization: Bearer <JWT from the provider>`` and needs no stored Steward secret.

The token must pass the same checks as an ID token (RS256 by the provider's JWKS, issuer,
expiry) for the API's audience (``STEWARD_OIDC_API_AUDIENCE``, the client id by default), and
its subject must be linked to an active Steward account (signed in through the provider before,
or linked by an administrator). No account is created from an API call.

Scopes: such a request may do what a Steward token with the ``read`` and ``write`` scopes may
(:data:`PROVIDER_TOKEN_SCOPES`), never the workflow's decisions (submit, validate, approve,
deploy, classify) nor managing Steward tokens: a decision is taken in Steward, in a session or
with a Steward token that names that scope.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from rest_framework import exceptions

from accounts.choices import LoginOutcome, SignOnRefusal, TokenScope
from accounts.models import ExternalIdentity
from accounts.services.identities import SignOnRefused
from accounts.services.login_audit import login_event_record, login_success_record_daily
from accounts.sso.tokens import provider_token_verify
from core.audit import audit_bind_actor

PROVIDER_TOKEN_SCOPES = (TokenScope.READ.value, TokenScope.WRITE.value)


@dataclass(frozen=True)
class ProviderAccessToken:
    """``request.auth`` of a request made with the provider's access token. ``scopes`` is
    what ``TokenScopePermission`` and the services' scope checks read."""

    provider: str
    subject: str
    expires_at: int
    scopes: tuple[str, ...] = PROVIDER_TOKEN_SCOPES


def provider_bearer_authenticate(request, token: str):
    """``(user, ProviderAccessToken)`` for a valid provider token; AuthenticationFailed (401)
    naming the reason otherwise, recorded in the login audit."""
    provider = getattr(settings, "STEWARD_OIDC", None)
    if provider is None or not provider.api_tokens:
        raise exceptions.AuthenticationFailed(
            "Invalid API token (provider tokens are not accepted here)."
        )
    try:
        claims = provider_token_verify(provider, token, audience=provider.audience_for_api)
        identity = (
            ExternalIdentity.objects.select_related("user")
            .filter(provider=provider.key, subject=claims["sub"])
            .first()
        )
        if identity is None:
            raise SignOnRefused(
                SignOnRefusal.UNKNOWN_USER,
                f"no Steward account is linked to {provider.key} subject {claims['sub']}",
                subject=claims["sub"],
            )
        if not identity.user.is_active:
            raise SignOnRefused(
                SignOnRefusal.INACTIVE,
                f"the account {identity.user.username} is deactivated",
                subject=claims["sub"],
                username=identity.user.username,
            )
    except SignOnRefused as refused:
        login_event_record(
            request=request,
            username=refused.username,
            method=provider.login_method,
            outcome=LoginOutcome.FAILURE,
            detail=f"API: {refused.detail}",
            subject=refused.subject,
        )
        raise exceptions.AuthenticationFailed(
            f"Provider token refused: {refused.message}."
        ) from refused
    user = identity.user
    login_success_record_daily(request=request, user=user, method=provider.login_method)
    audit_bind_actor(user)
    return user, ProviderAccessToken(
        provider=provider.key, subject=identity.subject, expires_at=int(claims["exp"])
    )
