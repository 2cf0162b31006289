"""The deployments section of the registry's version page: where this version serves, in
which mode, and how healthy it is there. The registry cannot import monitoring, so monitoring
registers the panel (``monitoring_panels_register``, called from ``MonitoringConfig.ready()``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest

from monitoring import selectors
from registry.choices import VersionStatus
from registry.models import ModelVersion, RegisteredModel
from registry.panels import model_panel_register, version_panel_register

TEMPLATE = "monitoring/version_panel.html"
MODEL_TEMPLATE = "monitoring/model_serving_panel.html"


def deployments_panel_context(
    request: HttpRequest, version: ModelVersion, state: Mapping[str, Any]
) -> dict[str, Any]:
    """The version's deployments that ``request.user`` may see, each with its latest health,
    drift and count of unresolved alerts. The panel has no forms, so ``state`` is unused."""
    rows = selectors.version_deployments(request.user, version)
    serving = None
    in_production = version.status in (VersionStatus.PRODUCTION, VersionStatus.FLAGGED)
    if in_production and not any(row.deployment.is_active for row in rows):
        # Whether another version serves this model's production traffic, for a version in
        # production by decision that no deployment serves.
        serving = next(
            (
                s
                for s in selectors.model_serving(request.user, version.registered_model)
                if s.version.pk == version.pk
            ),
            None,
        )
    return {"mv": version, "rows": rows, "serving": serving}


def model_serving_panel_context(
    request: HttpRequest, model: RegisteredModel, state: Mapping[str, Any]
) -> dict[str, Any]:
    """Which version of the model serves traffic where, for the model page. No forms."""
    return {"model": model, "rows": selectors.model_serving(request.user, model)}


def monitoring_panels_register() -> None:
    """Add the deployments panel to the version page and the serving panel to the model
    page."""
    version_panel_register(TEMPLATE, deployments_panel_context)
    model_panel_register(MODEL_TEMPLATE, model_serving_panel_context)
