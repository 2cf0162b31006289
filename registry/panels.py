"""Sections that later apps add to the registry's version page.

The registry may not import the apps built on it (governance, monitoring), yet its version page
shows their sections: the review console, deployments. Each such app registers a panel from its
``AppConfig.ready()``: a template, and a function that builds that template's context for one
version and one request. The page renders every registered panel, in registration order, near
its top.

A panel's context function also receives ``state``: what a refused form of that panel posted
(its values and the error), so that an app can show the page again with the error beside the
form instead of losing what the user typed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from registry.models import ModelVersion, RegisteredModel

PanelContext = Callable[[HttpRequest, ModelVersion, Mapping[str, Any]], dict[str, Any]]
ModelPanelContext = Callable[[HttpRequest, RegisteredModel, Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class VersionPanel:
    """A registered panel: the template to include and the function that builds its context."""

    template_name: str
    context_function: PanelContext


@dataclass(frozen=True)
class RenderedPanel:
    """One panel ready for the page: ``{% include panel.template_name with panel=... %}``."""

    template_name: str
    context: dict[str, Any]


_version_panels: list[VersionPanel] = []


def version_panel_register(template_name: str, context_function: PanelContext) -> None:
    """Add a panel to the version page. Registering the same template again replaces the
    earlier registration (``ready()`` may run more than once in a process)."""
    _version_panels[:] = [p for p in _version_panels if p.template_name != template_name]
    _version_panels.append(VersionPanel(template_name, context_function))


def version_panels(
    request: HttpRequest, version: ModelVersion, state: Mapping[str, Any] | None = None
) -> list[RenderedPanel]:
    """Every registered panel with its context for ``version`` as ``request.user`` sees it."""
    state = state or {}
    return [
        RenderedPanel(panel.template_name, panel.context_function(request, version, state))
        for panel in _version_panels
    ]


# The model page takes panels with forms the same way (governance's alias form): a refused
# form's ``state`` is handed to its context function when the page is shown again.
_model_panels: list[tuple[str, ModelPanelContext]] = []


def model_panel_register(template_name: str, context_function: ModelPanelContext) -> None:
    """Add a panel to the registered model page. Registering the same template again replaces
    the earlier registration."""
    _model_panels[:] = [p for p in _model_panels if p[0] != template_name]
    _model_panels.append((template_name, context_function))


def model_panels(
    request: HttpRequest, model: RegisteredModel, state: Mapping[str, Any] | None = None
) -> list[RenderedPanel]:
    """Every registered model page panel with its context for ``model`` as ``request.user``
    sees it."""
    state = state or {}
    return [
        RenderedPanel(template_name, context_function(request, model, state))
        for template_name, context_function in _model_panels
    ]


# The run and dataset version pages take panels too, without forms: a section another app adds
# (where a run reported through a lineage protocol came from, its column lineage). A context
# function that returns None has nothing to show for this object, and its panel is left out.
RUN_PAGE = "run"
DATASET_VERSION_PAGE = "dataset_version"
PagePanelContext = Callable[[HttpRequest, Any], dict[str, Any] | None]

_page_panels: dict[str, list[tuple[str, PagePanelContext]]] = {}


def page_panel_register(page: str, template_name: str, context_function: PagePanelContext) -> None:
    """Add a panel to the ``page`` (RUN_PAGE or DATASET_VERSION_PAGE) of every object.
    Registering the same template again replaces the earlier registration."""
    panels = _page_panels.setdefault(page, [])
    panels[:] = [p for p in panels if p[0] != template_name]
    panels.append((template_name, context_function))


def page_panels(page: str, request: HttpRequest, obj: Any) -> list[RenderedPanel]:
    """The panels of ``page`` that have something to show for ``obj`` as ``request.user``
    sees it."""
    rendered = []
    for template_name, context_function in _page_panels.get(page, []):
        context = context_function(request, obj)
        if context is not None:
            rendered.append(RenderedPanel(template_name, context))
    return rendered


# How a version's files are kept when they are not one uploaded artifact (a protocol that stores
# a folder of files, e.g. MLflow's): the first note a registered function gives is shown in the
# version page's "Stored in Steward" row instead of "no, external location".
StorageNote = Callable[[ModelVersion], "str | None"]
_storage_notes: list[StorageNote] = []


def version_storage_note_register(note: StorageNote) -> None:
    """Add a way to describe where a version's files are kept (once per function)."""
    if note not in _storage_notes:
        _storage_notes.append(note)


def version_storage_note(version: ModelVersion) -> str | None:
    """What the first registered function says about ``version``'s files, or None."""
    for note in _storage_notes:
        text = note(version)
        if text:
            return text
    return None
