"""Verifying the provider's JSON Web Tokens: ID tokens at sign-on, access tokens on the API.

Stricter than mozilla-django-oidc's own check (which skips the audience): RS256 only, signed by
a key of the provider's JWKS, issued by the configured issuer, for the expected audience, not
expired (within the configured clock skew), and, for an ID token, carrying the nonce this
browser's sign-on sent. Each refusal names its reason (:class:`accounts.choices.SignOnRefusal`).
"""

from __future__ import annotations

import hmac
import re

import jwt

from accounts.choices import SignOnRefusal
from accounts.services.identities import SignOnRefused
from accounts.sso.discovery import ProviderUnavailable, provider_endpoints, provider_signing_keys
from config.sso import OidcProvider

ALGORITHMS = ["RS256"]
# Three base64url parts; a JSON header always starts with '{"' = "eyJ".
_JWT_SHAPE = re.compile(r"^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


def looks_like_jwt(value: str) -> bool:
    """Whether a bearer credential is a JWT (a provider's token) rather than a Steward token."""
    return bool(_JWT_SHAPE.match(value)) and len(value) < 16384


def provider_token_verify(
    provider: OidcProvider, token: str, *, audience: str, nonce: str | None = None
) -> dict:
    """The claims of ``token`` once every check passed; SignOnRefused with the reason
    otherwise (ProviderUnavailable when the provider's keys cannot be fetched). ``nonce`` given:
    the token must carry exactly that nonce (an ID token of this sign-on)."""
    if not isinstance(token, str) or not looks_like_jwt(token):
        raise SignOnRefused(SignOnRefusal.MALFORMED, "not a JSON Web Token")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise SignOnRefused(SignOnRefusal.MALFORMED, f"unreadable token header: {exc}") from exc
    if header.get("alg") not in ALGORITHMS:
        # "none" and HS256 (signed with the client secret, which the API's callers do not
        # hold) are refused outright.
        raise SignOnRefused(
            SignOnRefusal.SIGNATURE, f"algorithm {header.get('alg')!r} is not accepted (RS256)"
        )
    key = _signing_key(provider, header.get("kid"))
    issuer = provider_endpoints(provider).issuer
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=ALGORITHMS,
            audience=audience,
            issuer=issuer,
            leeway=provider.clock_skew,
            options={"require": ["exp", "iat", "iss", "sub", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise SignOnRefused(SignOnRefusal.EXPIRED, "the token has expired") from exc
    except (jwt.ImmatureSignatureError, jwt.InvalidIssuedAtError) as exc:
        raise SignOnRefused(SignOnRefusal.EXPIRED, f"the token is not valid yet: {exc}") from exc
    except jwt.InvalidAudienceError as exc:
        raise SignOnRefused(
            SignOnRefusal.AUDIENCE, f"the token is not meant for {audience!r}"
        ) from exc
    except jwt.InvalidIssuerError as exc:
        raise SignOnRefused(SignOnRefusal.ISSUER, f"the token was not issued by {issuer}") from exc
    except jwt.MissingRequiredClaimError as exc:
        reason = SignOnRefusal.AUDIENCE if exc.claim == "aud" else SignOnRefusal.CLAIMS
        raise SignOnRefused(reason, f"the token has no {exc.claim!r} claim") from exc
    except (jwt.InvalidSignatureError, jwt.DecodeError) as exc:
        raise SignOnRefused(SignOnRefusal.SIGNATURE, "the signature does not verify") from exc
    except jwt.InvalidTokenError as exc:
        raise SignOnRefused(SignOnRefusal.MALFORMED, f"invalid token: {exc}") from exc
    _check_authorized_party(claims, audience)
    if nonce is not None:
        sent = claims.get("nonce")
        if not isinstance(sent, str) or not hmac.compare_digest(sent, nonce):
            raise SignOnRefused(
                SignOnRefusal.NONCE,
                "the ID token's nonce is not the one this sign-on sent",
                subject=str(claims.get("sub", "")),
            )
    return claims


def _check_authorized_party(claims: dict, audience: str) -> None:
    """A token for several audiences must name Steward as the party it was issued to (Core
    1.0, 3.1.3.7): otherwise another client's token, also listing Steward, would do."""
    aud = claims.get("aud")
    if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != audience:
        raise SignOnRefused(
            SignOnRefusal.AUDIENCE,
            f"the token was issued to {claims.get('azp')!r}, not {audience!r}",
            subject=str(claims.get("sub", "")),
        )


def _signing_key(provider: OidcProvider, kid: object):
    for refresh in (False, True):
        try:
            jwks = provider_signing_keys(provider, refresh=refresh)
        except ProviderUnavailable as exc:
            raise SignOnRefused(
                SignOnRefusal.PROVIDER_UNREACHABLE, f"the provider's keys: {exc}"
            ) from exc
        for jwk in jwks.get("keys", []):
            if not isinstance(jwk, dict) or jwk.get("kty") != "RSA":
                continue
            if jwk.get("use", "sig") != "sig" or jwk.get("alg", "RS256") != "RS256":
                continue
            if kid is not None and jwk.get("kid") != kid:
                continue
            try:
                return jwt.PyJWK(jwk, algorithm="RS256").key
            except jwt.PyJWKError:
                continue
    raise SignOnRefused(SignOnRefusal.SIGNATURE, f"the provider has no signing key {kid!r}")
