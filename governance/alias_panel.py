"""The aliases section of the model page: the form that points an alias at a version or
removes it, with a motivation. Registered on the registry's model page by
``GovernanceConfig.ready()`` (see ``registry.panels``); the aliases themselves are listed by the
registry's own template."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from governance.constants import MIN_MOTIVATION_LENGTH
from governance.forms import MAX_MOTIVATION
from governance.services.aliases import SERVABLE_STATES, may_move_alias
from registry.models import ModelVersion, RegisteredModel

TEMPLATE = "governance/_alias_panel.html"


def alias_panel_context(
    request: HttpRequest, model: RegisteredModel, state: Mapping[str, Any]
) -> dict[str, Any]:
    """What the alias form offers ``request.user`` on ``model``. ``state`` holds a refused
    move (``{"alias": {"values", "error"}}``) to show again beside the form."""
    user = request.user
    may_change = may_move_alias(user, model, protected=False)
    may_deploy = may_move_alias(user, model, protected=True)
    versions = []
    if may_change or may_deploy:
        versions = list(
            ModelVersion.objects.filter(registered_model=model)
            .restrict(user)
            .order_by("-version")
            .only("id", "version", "status")
        )
    return {
        "model": model,
        "may_move": may_change or may_deploy,
        "may_change": may_change,
        "may_deploy": may_deploy,
        "versions": versions,
        "servable": SERVABLE_STATES,
        "protected": settings.STEWARD_PROTECTED_ALIASES,
        "min_motivation": MIN_MOTIVATION_LENGTH,
        "max_motivation": MAX_MOTIVATION,
        "form": state.get("alias", {}),
    }
