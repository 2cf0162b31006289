"""What the test provider puts in its tokens: a stable subject, the person's names and e-mail,
their groups (a claim django-oauth-toolkit does not have, added as real providers add one),
and JWT access tokens. A fault the tests switch on (:mod:`tests.sso.provider.control`) makes it
issue a bad ID or access token, as a broken or hostile provider would."""

from __future__ import annotations

import json
import time

from django.conf import settings
from jwcrypto import jwk, jwt
from oauth2_provider.oauth2_validators import OAuth2Validator

from tests.sso.provider import control


def subject_of(user) -> str:
    return f"uid-{user.username}"


class StewardTestValidator(OAuth2Validator):
    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "groups": "profile",
    }

    def get_additional_claims(self, request):
        user = request.user
        return {
            "sub": subject_of(user),
            "preferred_username": user.username,
            "name": user.get_full_name() or user.username,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "email": user.email,
            "groups": sorted(user.groups.values_list("name", flat=True)),
        }

    def finalize_id_token(self, id_token, token, token_handler, request):
        serialized = super().finalize_id_token(id_token, token, token_handler, request)
        return control.fault_apply(serialized, _key())


def _key() -> jwk.JWK:
    return jwk.JWK.from_pem(settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"].encode())


def jwt_access_token(request, refresh_token=False) -> str:
    """An RS256 access token with the claims a resource server checks. Its audience is the
    ``audience`` parameter of the token request when given (as a workload asks for a token
    for an API), else the client's own id."""
    now = int(time.time())
    key = _key()
    user = getattr(request, "user", None)
    client_id = request.client_id or getattr(request.client, "client_id", "")
    claims = {
        "iss": settings.ISSUER,
        "sub": subject_of(user) if user is not None and user.pk else client_id,
        "aud": request._params.get("audience") or client_id,
        "client_id": client_id,
        "scope": " ".join(request.scopes or []),
        "iat": now,
        "exp": now + 600,
        "jti": f"{now}-{id(request)}",
    }
    token = jwt.JWT(
        header=json.dumps({"alg": "RS256", "typ": "at+jwt", "kid": key.thumbprint()}),
        claims=json.dumps(claims),
    )
    token.make_signed_token(key)
    return control.fault_apply(token.serialize(), key)
