"""Formats that later apps add to the lineage endpoints of the API.

``GET .../lineage/`` answers the registry's own JSON graph. An app built on the registry (the
integrations app's W3C PROV export) adds another representation of the same closure by
registering an export from its ``AppConfig.ready()``: a ``?format=`` name, a media type, and a
function that turns the closure, as the requester sees it, into bytes. The endpoint then
answers ``?format=<name>`` (or an ``Accept`` header naming the media type) with it; the
closure, and so what the requester may see, is computed by the registry exactly as for JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from rest_framework.renderers import BaseRenderer

from accounts.models import User
from registry.selectors import LineageGraph

LineageExportFunction = Callable[[User, LineageGraph], bytes]


@dataclass(frozen=True)
class LineageExport:
    """A registered export: ``?format=<format>``, answered as ``media_type``."""

    format: str
    media_type: str
    render: LineageExportFunction


_exports: dict[str, LineageExport] = {}


def lineage_export_register(*, format: str, media_type: str, render: LineageExportFunction) -> None:
    """Offer the lineage closure as ``format``; registering a format again replaces it."""
    _exports[format] = LineageExport(format, media_type, render)


def lineage_export_renderers() -> list[type[BaseRenderer]]:
    """One DRF renderer class per registered export, for the lineage action's negotiation."""
    return [_renderer_for(export) for export in _exports.values()]


def lineage_export_chosen(renderer: BaseRenderer | None) -> bool:
    """Whether content negotiation picked a registered export (not the JSON graph)."""
    return getattr(renderer, "lineage_export", False)


def _renderer_for(export: LineageExport) -> type[BaseRenderer]:
    def render(self, data, accepted_media_type=None, renderer_context=None):
        context = renderer_context or {}
        if isinstance(data, LineageGraph):
            return export.render(context["request"].user, data)
        # An error answered to a request for this format: the API's JSON error body, labelled
        # as what it is.
        response = context.get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return json.dumps(data).encode() if data is not None else b""

    return type(
        f"LineageExportRenderer_{export.format.replace('-', '_')}",
        (BaseRenderer,),
        {
            "media_type": export.media_type,
            "format": export.format,
            "charset": "utf-8",
            "lineage_export": True,
            "render": render,
        },
    )
