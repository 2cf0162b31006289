"""The login audit's filters: one FilterSet read by ``/api/v1/login-events/`` and bound by the
sign-in audit page (``core.filters.page_filterset``), under the same names on both faces."""

from __future__ import annotations

import django_filters
from django import forms
from django.conf import settings
from django.core.validators import RegexValidator

from accounts.choices import LoginMethod, LoginOutcome
from accounts.models import LoginEvent
from core.filters import MomentFilter, StewardFilterSet, TextFilter

# A fixed method, or a single sign-on's: "oidc:<provider key>" (config.sso) or
# "saml:<provider key>" (config.saml), of this provider or an earlier.
login_method = RegexValidator(
    rf"^({'|'.join(LoginMethod.values)}|(oidc|saml):[a-z0-9][a-z0-9-]{{0,31}})$",
    f"Choose from {', '.join(LoginMethod.values)}, oidc:<provider> or saml:<provider>.",
    code="invalid",
)


def login_method_choices() -> list[tuple[str, str]]:
    """The methods a filter offers: the fixed ones, and the configured provider's."""
    choices = list(LoginMethod.choices)
    for setting in ("STEWARD_OIDC", "STEWARD_SAML"):
        provider = getattr(settings, setting, None)
        if provider is not None:
            choices.append((provider.login_method, f"{provider.name} (single sign-on)"))
    return choices


def _date_box() -> forms.Widget:
    return forms.DateInput(attrs={"type": "date"})


class LoginEventFilter(StewardFilterSet):
    username = TextFilter(
        lookup_expr="icontains",
        label="User name",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name as typed"}),
    )
    outcome = django_filters.ChoiceFilter(
        choices=LoginOutcome.choices,
        label="Outcome",
        empty_label="Any",
        error_messages={
            "invalid_choice": f"Choose from {', '.join(LoginOutcome.values)}.",
        },
    )
    method = TextFilter(label="Method", validators=[login_method])
    since = MomentFilter(field_name="created_at", label="From")
    until = MomentFilter(field_name="created_at", end_of_day=True, label="To")

    page_fields = ("username", "outcome", "method", "since", "until")
    page_widgets = {"since": _date_box, "until": _date_box}

    class Meta:
        model = LoginEvent
        fields = ["username", "outcome", "method", "since", "until"]

    def page_menus(self):
        return {"method": login_method_choices()}
