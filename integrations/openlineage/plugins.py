"""What OpenLineage adds to the earlier apps, from ``IntegrationsConfig.ready()``: its records
in the field-level audit log, and the sections of the run and dataset version pages that show
where a run came from and its column lineage.

No demo hook: every demo dataset version is a real file whose hash it records (the demo's
tests check it), and a version known from OpenLineage has no file, only an identity hash."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from core.audit import auditlog_register
from integrations import models as m
from integrations.openlineage.selectors import dataset_version_origin, run_origin
from registry.models import DatasetVersion, Run
from registry.panels import DATASET_VERSION_PAGE, RUN_PAGE, page_panel_register

RUN_PANEL = "integrations/openlineage_run_panel.html"
DATASET_VERSION_PANEL = "integrations/openlineage_dataset_version_panel.html"


def run_panel_context(request: HttpRequest, run: Run) -> dict[str, Any] | None:
    origin = run_origin(request.user, run)
    return None if origin is None else {"origin": origin}


def dataset_version_panel_context(
    request: HttpRequest, version: DatasetVersion
) -> dict[str, Any] | None:
    origin = dataset_version_origin(request.user, version)
    return None if origin is None else {"origin": origin}


def openlineage_plugins_register() -> None:
    # The received events are not registered: each is an append-only record whose hash the
    # audit chain's openlineage.event entry holds already.
    for model in (
        m.OpenLineageJob,
        m.OpenLineageRun,
        m.OpenLineageDataset,
        m.OpenLineageDatasetVersion,
        m.OpenLineageRunDataset,
    ):
        auditlog_register(model)
    page_panel_register(RUN_PAGE, RUN_PANEL, run_panel_context)
    page_panel_register(DATASET_VERSION_PAGE, DATASET_VERSION_PANEL, dataset_version_panel_context)
