"""Reclassification in the admin console: an action on registered models that asks for the new
risk tier and/or team and the motivation, then takes the decision through the service (which
checks the administrator may, and records a decision on each version under review)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from accounts.models import Team
from core.errors import StewardError
from governance import services, workflow
from governance.constants import MIN_MOTIVATION_LENGTH
from registry.choices import RiskTier
from registry.models import RegisteredModel


class ReclassifyForm(forms.Form):
    risk_tier = forms.ChoiceField(
        choices=[("", "— keep —"), *RiskTier.choices], required=False, label="New risk tier"
    )
    owner_team = forms.ModelChoiceField(
        Team.objects.order_by("name"), required=False, label="New owning team"
    )
    motivation = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), label="Motivation")


def reclassify_models(model_admin, request, queryset):
    form = ReclassifyForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        data = form.cleaned_data
        for model in queryset:
            try:
                decisions = services.model_reclassify(
                    actor=request.user,
                    model=model,
                    motivation=data["motivation"],
                    risk_tier=data["risk_tier"] or None,
                    owner_team=data["owner_team"],
                )
            except StewardError as exc:
                model_admin.message_user(request, f"{model}: {exc.message}", messages.WARNING)
                continue
            moved = ", ".join(
                f"v{d.version.version} {d.get_to_state_display().lower()}" for d in decisions
            )
            model_admin.message_user(
                request,
                f"{model} reclassified" + (f" ({moved})." if moved else "."),
                messages.SUCCESS,
            )
        return None
    rows = [
        (
            model,
            ", ".join(
                f"v{v.version} {v.get_status_display().lower()}"
                for v in model.versions.filter(status__in=workflow.GOVERNED_STATES)
            )
            or "No version under review: a plain edit would do.",
        )
        for model in queryset
    ]
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Reclassify: the new tier or team, and why",
        "opts": model_admin.model._meta,
        "rows": rows,
        "form": form,
        "min_motivation": MIN_MOTIVATION_LENGTH,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "governance/admin_reclassify.html", context)


reclassify_models.__name__ = "reclassify_models"
reclassify_models = admin.action(description="Reclassify (tier or team) with a motivation…")(
    reclassify_models
)

# The registry registers its RegisteredModel admin and may not import governance.
_RegistryModelAdmin = type(admin.site._registry[RegisteredModel])
admin.site.unregister(RegisteredModel)


@admin.register(RegisteredModel)
class GovernedRegisteredModelAdmin(_RegistryModelAdmin):
    actions = [reclassify_models]
