"""Governance's list filters: one FilterSet per list, read by the REST API and bound by the page
(``core.filters.page_filterset``), under the same names on both faces.

The work queue's filters (``state``, ``team``, ``risk_tier``) narrow both halves of the queue
(what awaits a decision and what is watched): the selectors apply the bound FilterSet to each
with ``filter_queryset``."""

from __future__ import annotations

from collections.abc import Callable

import django_filters
from django import forms
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db.models import Q

from accounts.models import Team
from core.filters import MomentFilter, StewardFilterSet, TextFilter
from core.models import AuditEvent
from governance.trail import VERSION_KEY, TrailFilters, TrailSource
from registry import selectors as registry_selectors
from registry.choices import RiskTier, VersionStatus
from registry.models import ModelVersion


def unknown_value(field: str) -> dict[str, str]:
    """The refusal of a value outside a menu's choices; says it is a filter value (as the
    queue's 400 always did) and which filter."""
    return {"invalid_choice": f"Unknown filter value '%(value)s' for {field}."}


class QueueFilter(StewardFilterSet):
    """The work queue (the inbox page and ``/api/v1/inbox/``)."""

    state = django_filters.ChoiceFilter(
        field_name="status",
        label="State",
        choices=VersionStatus.choices,
        empty_label="Any",
        error_messages=unknown_value("state"),
    )
    team = TextFilter(method="filter_team", label="Team", help_text="A team's slug or name.")
    risk_tier = django_filters.ChoiceFilter(
        field_name="registered_model__risk_tier",
        label="Risk tier",
        choices=RiskTier.choices,
        empty_label="Any",
        error_messages=unknown_value("risk_tier"),
    )

    page_fields = ("state", "team", "risk_tier")

    class Meta:
        model = ModelVersion
        fields = ["state", "team", "risk_tier"]

    def filter_team(self, queryset, name, value):
        return queryset.filter(
            Q(registered_model__owner_team__slug=value)
            | Q(registered_model__owner_team__name__iexact=value)
        )

    def page_menus(self):
        """Teams owning a model the person may see."""
        models = registry_selectors.registered_model_list_brief(self.request.user)
        teams = Team.objects.filter(pk__in=models.values("owner_team")).order_by("name")
        return {"team": [(team.slug, team.name) for team in teams]}


def _search_box(placeholder: str) -> Callable[[], forms.Widget]:
    return lambda: forms.TextInput(attrs={"type": "search", "placeholder": placeholder})


def _date_box() -> forms.Widget:
    return forms.DateInput(attrs={"type": "date"})


class TrailFilter(StewardFilterSet):
    """The raw audit log (``/audit/log/``, ``/api/v1/audit/events/`` and the exports): audit
    events and field changes, two sources merged in SQL by ``governance.trail``. This FilterSet
    reads and checks the parameters and renders the page's bar; :attr:`trail` gives the
    selectors what it read."""

    model = TextFilter(label="Model", validators=[MaxLengthValidator(128)])
    version = TextFilter(
        label="Version",
        validators=[
            MaxLengthValidator(150),
            RegexValidator(VERSION_KEY, "Give a version as model-name/number, e.g. credit-risk/3."),
        ],
    )
    user = TextFilter(label="User", validators=[MaxLengthValidator(150)])
    action = TextFilter(label="Action", validators=[MaxLengthValidator(64)])
    source = django_filters.ChoiceFilter(
        choices=TrailSource.choices,
        label="Source",
        empty_label="Both",
        error_messages={"invalid_choice": f"Choose from {', '.join(TrailSource.values)}."},
    )
    since = MomentFilter(label="From")
    until = MomentFilter(end_of_day=True, label="To")

    page_fields = ("model", "version", "user", "action", "source", "since", "until")
    page_widgets = {
        "model": _search_box("credit-risk"),
        "version": _search_box("credit-risk/3"),
        "user": _search_box("User name"),
        "action": _search_box("transition, update…"),
        "since": _date_box,
        "until": _date_box,
    }

    class Meta:
        model = AuditEvent
        fields: list[str] = []

    @property
    def trail(self) -> TrailFilters:
        """What the (valid) form read, as the trail's selectors take it."""
        data = self.form.cleaned_data
        return TrailFilters(
            model=data.get("model") or "",
            version=data.get("version") or "",
            user=data.get("user") or "",
            action=data.get("action") or "",
            source=data.get("source") or "",
            since=data.get("since"),
            until=data.get("until"),
        )


class TimelineFilter(TrailFilter):
    """The decisions timeline (``/audit/``): the same parameters as the raw log, so a filter
    carries over between the two tabs; its bar shows whose records and when (a decision has
    no source, and its action is its own column)."""

    page_fields = ("model", "version", "user", "since", "until")
