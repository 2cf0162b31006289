"""The test provider's pages: its own sign-in page, django-oauth-toolkit under /o/ (discovery,
authorize, token, userinfo, JWKS, end session), and the tests' control endpoint."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from tests.sso.provider import control

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("control/", control.control, name="control"),
]
