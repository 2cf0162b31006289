"""Signing in and out of the browser pages. The names are not namespaced because Django's
``LOGIN_URL`` and ``LOGOUT_REDIRECT_URL`` settings refer to them as plain "login"."""

from django.contrib.auth import views as auth_views
from django.urls import path

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    # Django's LogoutView accepts POST only, so a link cannot sign anyone out (CSRF-safe).
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
