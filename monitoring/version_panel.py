"""The deployments section of the registry's version page: where this version serves, in
which mode, and how healthy it is there. The registry cannot import monitoring, so monitoring
registers the panel (``monitoring_panels_register``, called from ``MonitoringConfig.ready()``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest

from monitoring import page_selectors
from registry.models import ModelVersion
from registry.panels import version_panel_register

TEMPLATE = "monitoring/version_panel.html"


def deployments_panel_context(
    request: HttpRequest, version: ModelVersion, state: Mapping[str, Any]
) -> dict[str, Any]:
    """The version's deployments that ``request.user`` may see, each with its latest health,
    drift and count of unresolved alerts. The panel has no forms, so ``state`` is unused."""
    return {"mv": version, "rows": page_selectors.version_deployments(request.user, version)}


def monitoring_panels_register() -> None:
    """Add the deployments panel to the version page."""
    version_panel_register(TEMPLATE, deployments_panel_context)
