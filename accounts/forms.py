"""Forms of the accounts pages: signing in, and creating an API token."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from accounts.choices import TokenScope
from accounts.services.login_audit import (
    DIRECTORY_UNREACHABLE_MESSAGE,
    directory_error_of,
    login_throttle_check,
)
from accounts.services.tokens import NAME_MAX_LENGTH

TOKEN_SCOPE_HELP = {
    TokenScope.READ: "Read everything you can see.",
    TokenScope.WRITE: "Register and change models, datasets, runs and versions.",
    TokenScope.SUBMIT: "Submit versions for validation.",
    TokenScope.VALIDATE: "Sign off or send back versions you validate.",
    TokenScope.APPROVE: "Approve versions for production.",
    TokenScope.DEPLOY: "Deploy versions.",
    TokenScope.ANNOTATE: "Write notes on governed objects.",
}


class ThrottledSignInMixin:
    """Refuses a throttled account before its password is checked, and explains a directory
    outage instead of calling it a wrong password."""

    def clean(self):
        username = self.cleaned_data.get("username")
        if username:
            throttle = login_throttle_check(request=self.request, username=username)
            if throttle:
                raise ValidationError(throttle.message, code="throttled")
        return super().clean()

    def get_invalid_login_error(self):
        if directory_error_of(self.request):
            return ValidationError(DIRECTORY_UNREACHABLE_MESSAGE, code="directory_unreachable")
        return super().get_invalid_login_error()


class StewardAuthenticationForm(ThrottledSignInMixin, AuthenticationForm):
    """The sign-in page's form."""


class StewardAdminAuthenticationForm(ThrottledSignInMixin, AdminAuthenticationForm):
    """The admin's sign-in form, with the same throttle and messages."""


class ApiTokenForm(forms.Form):
    """A new token: what it is for, what it may do, and (optionally) the last day it works."""

    name = forms.CharField(
        max_length=NAME_MAX_LENGTH,
        help_text="Where it is used, e.g. “nightly training pipeline”.",
    )
    scopes = forms.MultipleChoiceField(
        choices=TokenScope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[TokenScope.READ],
        error_messages={"required": "Choose at least one scope."},
    )
    expires_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional. The token stops working at the end of this day (UTC).",
    )

    def clean_expires_on(self):
        day = self.cleaned_data.get("expires_on")
        if day is not None and day < datetime.now(UTC).date():
            raise ValidationError("Choose today or a later day.")
        return day

    @property
    def expires_at(self) -> datetime | None:
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)

    def scope_rows(self) -> list[dict]:
        """Each scope with its label, help and whether it is ticked, for the template."""
        chosen = set(self["scopes"].value() or [])
        return [
            {
                "value": value,
                "label": label,
                "help": TOKEN_SCOPE_HELP.get(value, ""),
                "checked": value in chosen,
            }
            for value, label in TokenScope.choices
        ]
