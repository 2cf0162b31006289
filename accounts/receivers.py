"""Django's authentication signals, recorded in the login audit. Connected in
``AccountsConfig.ready()``; each receiver only hands over to a service."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from accounts.choices import LoginMethod, LoginOutcome
from accounts.services.login_audit import login_event_record, login_failure_record


def login_method_of(user) -> str:
    """How ``user`` just got in, from the backend that authenticated them."""
    return (
        LoginMethod.LDAP if "ldap" in getattr(user, "backend", "").lower() else LoginMethod.PASSWORD
    )


def on_logged_in(sender, request, user, **kwargs) -> None:
    # A single sign-on says which provider and subject on the request (accounts.sso.views).
    sign_on = getattr(request, "steward_sign_on", None) or {}
    login_event_record(
        request=request,
        username=user.get_username(),
        user=user,
        method=sign_on.get("method") or login_method_of(user),
        outcome=LoginOutcome.SUCCESS,
        subject=sign_on.get("subject", ""),
    )


def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Django has already replaced the password in ``credentials``; only the name is kept.
    username = str(credentials.get(get_user_model().USERNAME_FIELD) or "")
    login_failure_record(request=request, username=username)


def on_logged_out(sender, request, user, **kwargs) -> None:
    if user is None or not user.is_authenticated:
        return
    login_event_record(
        request=request,
        username=user.get_username(),
        user=user,
        method=LoginMethod.LOGOUT,
        outcome=LoginOutcome.SUCCESS,
    )


def connect_login_receivers() -> None:
    user_logged_in.connect(on_logged_in, dispatch_uid="steward-login-audit-in")
    user_login_failed.connect(on_login_failed, dispatch_uid="steward-login-audit-failed")
    user_logged_out.connect(on_logged_out, dispatch_uid="steward-login-audit-out")
