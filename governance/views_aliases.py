"""The alias form of the model page: point an alias at a version, or remove it, with a
written motivation. Parse, call one service, redirect; a refused move shows the model page
again with the error beside the form, what the user typed kept, and the error's status (400,
403, 404 or 409)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from core.errors import InvalidInput, StewardError
from core.pages import form_view
from governance.forms import AliasMoveForm, form_values
from governance.services.aliases import model_alias_delete, model_alias_set
from registry import selectors
from registry.models import ModelVersion, RegisteredModel
from registry.views import model_page


@form_view
def model_alias_move(request: HttpRequest, name: str) -> HttpResponse:
    model = selectors.registered_model_get(request.user, name)
    try:
        values = form_values(AliasMoveForm(request.POST))
        alias = values["alias"]
        if values["op"] == "remove":
            model_alias_delete(
                actor=request.user, model=model, alias=alias, motivation=values["motivation"]
            )
            done = f"@{alias} no longer points at a version of {model.name}."
        else:
            version = _version_chosen(request, model, values["version"])
            model_alias_set(
                actor=request.user,
                model=model,
                alias=alias,
                version=version,
                motivation=values["motivation"],
            )
            done = f"{model.name}@{alias} now points at v{version.version}."
    except StewardError as exc:
        state = {"alias": {"values": request.POST, "error": exc}}
        return model_page(request, model, status=exc.status_code, panel_state=state)
    messages.success(request, done)
    return redirect(reverse("registry:model-detail", args=[model.name]) + "#aliases")


def _version_chosen(request: HttpRequest, model: RegisteredModel, number: int | None):
    if number is None:
        raise InvalidInput(
            "Choose the version the alias points at.",
            field_errors={"version": ["Choose a version."]},
        )
    version = (
        ModelVersion.objects.filter(registered_model=model)
        .restrict(request.user)
        .filter(version=number)
        .first()
    )
    if version is None:
        raise InvalidInput(
            f"{model.name} has no version {number}.",
            field_errors={"version": ["No such version of this model."]},
        )
    return version
