"""What a request made with an API token may do: what its scopes allow, nothing more.

Each API view declares the scope of each of its actions in one place, its
``required_token_scopes`` mapping (action or method -> a ``TokenScope``, or
``SCOPE_CHECKED_BY_SERVICE`` when the scope depends on the row acted on); undeclared actions
need read when safe and write otherwise. :class:`TokenScopePermission` checks it before the
view runs; a service that checks the scope itself is given :func:`request_token_scopes`."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.choices import TokenScope
from accounts.models import ApiToken

# Declared by a view whose scope depends on the row it acts on (a workflow transition: the
# action's scope is known only once the version is locked); its service checks the scope.
SCOPE_CHECKED_BY_SERVICE = "checked-by-service"


def required_token_scope(request, view) -> str:
    """The scope a token needs for this request: the one the view declares for its action in
    ``required_token_scopes`` (``{"submit": "submit"}``), else read for safe methods and write
    for the rest."""
    declared = getattr(view, "required_token_scopes", None) or {}
    action = getattr(view, "action", None) or request.method.lower()
    if action not in declared:
        return TokenScope.READ if request.method in SAFE_METHODS else TokenScope.WRITE
    needed = declared[action]
    if needed != SCOPE_CHECKED_BY_SERVICE and needed not in TokenScope.values:
        raise ImproperlyConfigured(f"{type(view).__name__} declares an unknown scope '{needed}'.")
    return needed


def request_token_scopes(request) -> list[str] | None:
    """The scopes of the token the request came with (Steward's or the provider's), for a
    service that checks the scope itself; None without a token (a session, a password)."""
    return list(request.auth.scopes) if is_token_request(request) else None


def is_token_request(request) -> bool:
    """Whether the request came with a scoped token: Steward's own (``ApiToken``) or the
    single sign-on provider's (``accounts.sso.api.ProviderAccessToken``, read and write)."""
    return isinstance(request.auth, ApiToken) or getattr(request.auth, "scopes", None) is not None


class TokenScopePermission(BasePermission):
    """Requests authenticated by an API token (Steward's or the provider's) need the right
    scope; session and Basic auth requests are not affected."""

    message = "This API token does not have the scope this request needs."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not is_token_request(request):
            return True
        needed = required_token_scope(request, view)
        if needed == SCOPE_CHECKED_BY_SERVICE or needed in request_token_scopes(request):
            return True
        self.message = (
            f"This API token lacks the '{needed}' scope needed here "
            f"(it has: {', '.join(token.scopes)})."
        )
        return False


class NotThroughToken(BasePermission):
    """Tokens cannot create or revoke tokens: otherwise one leaked token could mint others that
    outlive its revocation. Reading is allowed."""

    message = (
        "API tokens cannot create or revoke tokens. Sign in with your password (browser session "
        "or Basic auth) to manage tokens."
    )

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or not is_token_request(request)
