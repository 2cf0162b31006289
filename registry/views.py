"""Browser pages of the registry: the model and dataset catalogues and the provenance pages of
versions and runs. Views read through ``registry.selectors`` and render; they never write.

A ``StewardError`` raised while reading (a bad query parameter, an unknown name) becomes an error
page with the error's status code (``core.pages``), so bad input is a 400 or 404, never a 500."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString, mark_safe

from core.filters import page_filterset, query_renamed
from core.pages import page_view
from registry import comparison, evidence, panels, selectors
from registry.choices import Direction
from registry.filters import DatasetFilter, RegisteredModelFilter, RunFilter
from registry.lineage_svg import lineage_picture
from registry.models import ModelAlias, ModelVersion, RegisteredModel
from registry.permissions import Visibility

PAGE_SIZE = 25
KEY_METRICS_SHOWN = 3
# Panels of later apps that the version page shows in its "Documents" tab rather than at its
# top, by template name (the registry may not import the apps that register them).
DOCUMENT_PANEL_TEMPLATES = frozenset({"governance/documents_panel.html"})
# Headings inside a rendered document: the page has its own h1 (and h2 per section).
_DOCUMENT_HEADING = re.compile(r"<(/?)h([1-6])\b", re.IGNORECASE)
DOCUMENT_HEADING_SHIFT = 2
# The catalogues' query parameters before they took the API's names (registry.filters); old
# bookmarks and links still work.
OLD_SEARCH_PARAMETER = {"q": "search"}
OLD_CATALOGUE_PARAMETERS = {"q": "search", "team": "owner_team"}


# --- Models ---------------------------------------------------------------------------------


@page_view
def model_list(request: HttpRequest) -> HttpResponse:
    filters = page_filterset(
        RegisteredModelFilter,
        request,
        selectors.registered_model_list(request.user),
        data=query_renamed(request.GET, OLD_CATALOGUE_PARAMETERS),
    )
    models = selectors.registered_model_catalogue(filters)
    page = Paginator(models, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "registry/model_list.html",
        {"page": page, "filters": filters, "query_string": _query_without_page(request)},
    )


@page_view
def model_detail(request: HttpRequest, name: str) -> HttpResponse:
    model = selectors.registered_model_get(request.user, name)
    return model_page(request, model)


def model_page(
    request: HttpRequest,
    model: RegisteredModel,
    *,
    status: int = 200,
    panel_state: dict[str, Any] | None = None,
) -> HttpResponse:
    """The model page for a model the user may see. Apps whose model panels post forms call it
    to show the page again with a refused form's ``panel_state`` and the error's ``status``."""
    versions = selectors.model_versions_of(request.user, model)
    aliases = selectors.model_aliases(model)
    by_version: dict[int, list[ModelAlias]] = {}
    for alias in aliases:
        by_version.setdefault(alias.version_id, []).append(alias)
    rows = [
        {"version": v, "key_metrics": _key_metrics(v.metrics), "aliases": by_version.get(v.pk, [])}
        for v in versions
    ]
    return render(
        request,
        "registry/model_detail.html",
        {
            "model": model,
            "rows": rows,
            "aliases": aliases,
            "panels": panels.model_panels(request, model, panel_state),
        },
        status=status,
    )


@page_view
def model_version_detail(request: HttpRequest, name: str, version: int) -> HttpResponse:
    model_version = selectors.model_version_get(request.user, name, version)
    return model_version_page(request, model_version)


def model_version_page(
    request: HttpRequest,
    model_version: ModelVersion,
    *,
    status: int = 200,
    panel_state: dict[str, Any] | None = None,
) -> HttpResponse:
    """The version page for a version the user may see. Apps whose panels post forms (see
    ``registry.panels``) call it to show the page again with a refused form's ``panel_state``
    and the error's ``status``."""
    # Linked records of other teams are counted, never named.
    visible = Visibility(request.user)
    rendered = panels.version_panels(request, model_version, panel_state)
    summary = evidence.version_evidence_summary(
        request.user, model_version, visible, {p.template_name: p.context for p in rendered}
    )
    run, parent = model_version.run, model_version.derived_from
    top_panels, tabbed_panels = _panels_placed(rendered)
    return render(
        request,
        "registry/model_version_detail.html",
        {
            "mv": model_version,
            "summary": summary,
            "run": run if run is not None and visible.run(run) else None,
            "run_hidden": run is not None and not visible.run(run),
            "parent": parent if parent is not None and visible.model_version(parent) else None,
            "hidden_datasets": summary.hidden_datasets,
            "aliases": list(model_version.aliases.order_by("name")),
            "panels": top_panels,
            "document_panels": tabbed_panels,
            # A document asked for, or a refused free-text form shown again: its tab first.
            "initial_tab": "documents"
            if "document" in request.GET or "free_text" in (panel_state or {})
            else "evidence",
            "storage_note": None
            if model_version.artifact_id
            else panels.version_storage_note(model_version),
            "datasets_by_role": summary.datasets_by_role,
            "input_schema": structured(model_version.input_schema, "Field", "Type"),
            "output_schema": structured(model_version.output_schema, "Field", "Type"),
            "params": structured(model_version.params, "Parameter"),
            "metrics": structured(model_version.metrics, "Metric"),
            "derivatives": selectors.model_version_list(request.user).filter(
                derived_from=model_version
            ),
            **_environment(model_version),
            **_lineage(request, model_version),
        },
        status=status,
    )


@page_view
def version_compare(request: HttpRequest, name: str) -> HttpResponse:
    """Two versions of a model side by side: ``?a=<number>&b=<number>``; either may be
    ``production`` (the newest other version in production)."""
    a = comparison.version_number_clean(request.GET.get("a"), "a")
    b = comparison.version_number_clean(request.GET.get("b"), "b")
    compared = comparison.version_comparison(request.user, name, a, b)
    return render(
        request,
        "registry/version_compare.html",
        {
            "c": compared,
            "model": compared.model,
            # The two menus of the form: numbers and states only.
            "versions": selectors.model_versions_of(request.user, compared.model)
            .select_related(None)
            .prefetch_related(None)
            .only("pk", "version", "status"),
        },
    )


# --- Datasets -------------------------------------------------------------------------------


@page_view
def dataset_list(request: HttpRequest) -> HttpResponse:
    filters = page_filterset(
        DatasetFilter,
        request,
        selectors.dataset_list(request.user),
        data=query_renamed(request.GET, OLD_SEARCH_PARAMETER),
    )
    page = Paginator(selectors.dataset_catalogue(filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "registry/dataset_list.html",
        {"page": page, "filters": filters, "query_string": _query_without_page(request)},
    )


@page_view
def dataset_detail(request: HttpRequest, name: str) -> HttpResponse:
    dataset = selectors.dataset_get(request.user, name)
    versions = selectors.dataset_versions_of(request.user, dataset)
    return render(
        request, "registry/dataset_detail.html", {"dataset": dataset, "versions": versions}
    )


@page_view
def dataset_version_detail(request: HttpRequest, name: str, version: int) -> HttpResponse:
    dataset_version = selectors.dataset_version_get(request.user, name, version)
    return render(
        request,
        "registry/dataset_version_detail.html",
        {
            "dv": dataset_version,
            "schema": structured(dataset_version.schema, "Column", "Type"),
            "profile": structured(dataset_version.profile, "Column"),
            **selectors.dataset_version_usage(request.user, dataset_version),
            **_lineage(request, dataset_version),
            "panels": panels.page_panels(panels.DATASET_VERSION_PAGE, request, dataset_version),
        },
    )


# --- Runs -----------------------------------------------------------------------------------


@page_view
def run_list(request: HttpRequest) -> HttpResponse:
    """Runs the user may see, searchable by name and filtered by team, kind and status."""
    filters = page_filterset(
        RunFilter,
        request,
        selectors.run_list(request.user),
        data=query_renamed(request.GET, OLD_SEARCH_PARAMETER),
    )
    runs = selectors.run_catalogue(filters)
    page = Paginator(runs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "registry/run_list.html",
        {"page": page, "filters": filters, "query_string": _query_without_page(request)},
    )


@page_view
def run_detail(request: HttpRequest, run_uuid: uuid.UUID) -> HttpResponse:
    run = selectors.run_get(request.user, run_uuid)
    return render(
        request,
        "registry/run_detail.html",
        {
            "run": run,
            "params": structured(run.params, "Parameter"),
            "metrics": structured(run.metrics, "Metric"),
            "outputs": selectors.run_outputs(request.user, run),
            "panels": panels.page_panels(panels.RUN_PAGE, request, run),
            **_environment(run),
            **_lineage(request, run),
        },
    )


# --- Helpers --------------------------------------------------------------------------------


def _lineage(request: HttpRequest, obj: Any) -> dict[str, Any]:
    """The lineage picture of ``obj`` around it in both directions, at the requested depth."""
    depth = selectors.lineage_depth_clean(request.GET.get("depth"))
    graph = selectors.lineage_closure(
        user=request.user,
        root=selectors.lineage_node_of(obj),
        direction=Direction.BOTH,
        depth=depth,
    )
    return {
        "lineage": lineage_picture(graph),
        "depth": depth,
        "max_depth": settings.LINEAGE_MAX_DEPTH,
    }


def _panels_placed(rendered: list[panels.RenderedPanel]) -> tuple[list, list]:
    """Split the version page's panels into those at its top and those in the Documents tab,
    with the headings of a rendered document demoted below the page's own."""
    top, documents = [], []
    for panel in rendered:
        if panel.template_name not in DOCUMENT_PANEL_TEMPLATES:
            top.append(panel)
            continue
        shown = panel.context.get("shown_html")
        if shown:
            panel.context["shown_html"] = document_headings_demoted(shown)
        documents.append(panel)
    return top, documents


def document_headings_demoted(html: str) -> SafeString:
    """``html`` (a sanitised, rendered document) with every heading DOCUMENT_HEADING_SHIFT
    levels lower, h6 at most: a model card's ``# Model card`` must not be a second h1."""

    def lower(match: re.Match) -> str:
        level = min(6, int(match.group(2)) + DOCUMENT_HEADING_SHIFT)
        return f"<{match.group(1)}h{level}"

    # Only tag names change; the input was already sanitised, so it stays as safe as it was.
    return mark_safe(_DOCUMENT_HEADING.sub(lower, str(html)))  # noqa: S308


def _environment(obj: Any) -> dict[str, Any]:
    return {"packages": sorted(obj.packages.items(), key=lambda item: item[0].lower())}


def _key_metrics(metrics: dict) -> list[tuple[str, Any]]:
    return sorted(metrics.items())[:KEY_METRICS_SHOWN]


def _query_without_page(request: HttpRequest) -> str:
    """The current query string minus ``page``, for pagination links that keep the filters."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def structured(value: Any, key_label: str = "Name", value_label: str = "Value") -> dict[str, Any]:
    """Present free-form JSON (schemas, params, profiles) as a table when it has a tabular
    shape, else as pretty-printed JSON. Shapes recognised:

    - ``{name: scalar}`` -> rows of name and value;
    - ``[{...}, ...]`` or ``{"columns"|"fields": [{...}, ...]}`` -> one row per item;
    - ``{name: {stat: scalar}}`` -> one row per name, one column per stat.
    """
    if not value:
        return {"empty": True}
    if isinstance(value, dict) and len(value) == 1:
        (only,) = value.values()
        if isinstance(only, list) and next(iter(value)) in ("columns", "fields", "features"):
            value = only
    if isinstance(value, dict) and all(_is_scalar(v) for v in value.values()):
        return {"headers": [key_label, value_label], "rows": [[k, v] for k, v in value.items()]}
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        headers = list(dict.fromkeys(key for item in value for key in item))
        if all(_is_scalar(v) for item in value for v in item.values()):
            return {"headers": headers, "rows": [[i.get(h, "") for h in headers] for i in value]}
    if isinstance(value, dict) and all(
        isinstance(v, dict) and all(_is_scalar(x) for x in v.values()) for v in value.values()
    ):
        headers = list(dict.fromkeys(key for v in value.values() for key in v))
        rows = [[name, *(v.get(h, "") for h in headers)] for name, v in value.items()]
        return {"headers": [key_label, *headers], "rows": rows}
    return {"pretty": json.dumps(value, indent=2, sort_keys=True, default=str)}
