"""The PROV exports of the lineage endpoints, registered with the registry's plug-in point:
``?format=prov-json`` (PROV-JSON) and ``?format=prov-o`` or ``Accept: text/turtle`` (PROV-O in
Turtle)."""

from __future__ import annotations

from integrations.prov.documents import prov_json, prov_turtle
from registry.lineage_exports import lineage_export_register

PROV_JSON = "prov-json"
PROV_O = "prov-o"


def prov_plugins_register() -> None:
    # PROV-JSON has no media type of its own (the W3C note serves it as JSON): it is chosen by
    # the format parameter, never by an Accept header meant for the JSON graph.
    lineage_export_register(format=PROV_JSON, media_type="application/json", render=prov_json)
    lineage_export_register(format=PROV_O, media_type="text/turtle", render=prov_turtle)
