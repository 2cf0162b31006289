"""Signing in and out of the browser pages, a user's API tokens, and the login audit. The names
are not namespaced because Django's ``LOGIN_URL`` and ``LOGOUT_REDIRECT_URL`` settings refer to
them as plain "login"."""

from django.urls import path

from accounts import views
from accounts.forms import StewardAuthenticationForm
from accounts.saml import views as saml_views
from accounts.sso import views as sso_views

urlpatterns = [
    path(
        "login/",
        sso_views.StewardLoginView.as_view(authentication_form=StewardAuthenticationForm),
        name="login",
    ),
    # Django's LogoutView accepts POST only, so a link cannot sign anyone out (CSRF-safe); after
    # a single sign-on it also ends the provider's session where the provider supports it.
    path("logout/", sso_views.StewardLogoutView.as_view(), name="logout"),
    # Single sign-on (OpenID Connect); 404 unless STEWARD_OIDC_ISSUER is set.
    path("oidc/authenticate/", sso_views.OidcStartView.as_view(), name="oidc-login"),
    path("oidc/callback/", sso_views.oidc_callback, name="oidc-callback"),
    # Single sign-on (SAML 2.0); 404 unless STEWARD_SAML_ENTITY_ID is set.
    path("saml/login/", saml_views.saml_login, name="saml-login"),
    path("saml/acs/", saml_views.saml_acs, name="saml-acs"),
    path("saml/metadata/", saml_views.saml_metadata, name="saml-metadata"),
    path("account/tokens/", views.token_list, name="account-tokens"),
    path(
        "account/tokens/<str:prefix>/revoke/",
        views.token_revoke_view,
        name="account-token-revoke",
    ),
    path("audit/logins/", views.login_event_list_view, name="audit-logins"),
]
