"""The two retention forms of a deployment's page: place or release a legal hold, and set how
many days its predictions are kept. Administrators' forms (``retention.can_set_retention``);
the services check again, so anyone else's POST is refused with a 403 and the page shown again
with the message beside the form, as the other monitoring forms do."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from core.errors import InvalidInput, StewardError
from core.pages import form_view
from monitoring import selectors
from monitoring.models import Deployment
from monitoring.services import retention
from monitoring.views import deployment_page

HOLD_VALUES = {"place": True, "release": False}


@form_view
def deployment_legal_hold(request: HttpRequest, name: str) -> HttpResponse:
    """Place (``hold=place``) or release (``hold=release``) the deployment's legal hold."""
    deployment = selectors.deployment_get(request.user, name)
    reason = request.POST.get("reason", "")
    try:
        hold = _hold(request.POST.get("hold", ""))
        retention.deployment_legal_hold_set(
            actor=request.user, deployment=deployment, hold=hold, reason=reason
        )
    except StewardError as exc:
        return _refused(request, deployment, "legal_hold", exc, reason=reason)
    if hold:
        messages.success(request, "Legal hold placed: retention removes none of its predictions.")
    else:
        messages.success(request, "Legal hold released: retention applies again.")
    return _back(deployment)


@form_view
def deployment_retention(request: HttpRequest, name: str) -> HttpResponse:
    """Set the deployment's retention in days; empty for the global setting."""
    deployment = selectors.deployment_get(request.user, name)
    reason = request.POST.get("reason", "")
    typed = request.POST.get("retention_days", "").strip()
    try:
        days = _days(typed)
        retention.deployment_retention_set(
            actor=request.user, deployment=deployment, days=days, reason=reason
        )
    except StewardError as exc:
        return _refused(request, deployment, "retention", exc, reason=reason, days=typed)
    if days is None:
        messages.success(request, "Retention follows the global setting again.")
    else:
        messages.success(request, f"Predictions of this deployment are now kept {days} days.")
    return _back(deployment)


def _hold(value: str) -> bool:
    if value not in HOLD_VALUES:
        raise InvalidInput(
            "Say whether to place or release the legal hold.",
            field_errors={"hold": ["Choose place or release."]},
        )
    return HOLD_VALUES[value]


def _days(typed: str) -> int | None:
    """Empty: the global setting. Otherwise a whole number (the service checks its range)."""
    if not typed:
        return None
    # Nine digits at most: a longer number is out of range anyway, and never reaches int().
    if not typed.isascii() or not typed.isdigit() or len(typed) > 9:
        raise InvalidInput(
            f"Retention is a whole number of days from 1 to {retention.MAX_RETENTION_DAYS}, "
            "or empty for the global setting.",
            field_errors={"retention_days": ["A whole number is required."]},
        )
    return int(typed)


def _refused(request, deployment, form: str, error: StewardError, **typed) -> HttpResponse:
    state = {form: {"error": error, **typed}}
    return deployment_page(request, deployment, status=error.status_code, form_state=state)


def _back(deployment: Deployment) -> HttpResponse:
    return redirect(reverse("monitoring:deployment-detail", args=[deployment.name]) + "#retention")
