"""Signing in and out of the browser pages, a user's API tokens, and the login audit. The names
are not namespaced because Django's ``LOGIN_URL`` and ``LOGOUT_REDIRECT_URL`` settings refer to
them as plain "login"."""

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views
from accounts.forms import StewardAuthenticationForm

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=StewardAuthenticationForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    # Django's LogoutView accepts POST only, so a link cannot sign anyone out (CSRF-safe).
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/tokens/", views.token_list, name="account-tokens"),
    path(
        "account/tokens/<str:prefix>/revoke/",
        views.token_revoke_view,
        name="account-token-revoke",
    ),
    path("audit/logins/", views.login_event_list_view, name="audit-logins"),
]
