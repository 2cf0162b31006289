"""Governance's list filters: one FilterSet per list, read by the REST API and bound by the page
(``core.filters.page_filterset``), under the same names on both faces.

The work queue's filters (``state``, ``team``, ``risk_tier``) narrow both halves of the queue
(what awaits a decision and what is watched): the selectors apply the bound FilterSet to each
with ``filter_queryset``."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from accounts.models import Team
from core.filters import StewardFilterSet, TextFilter
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
