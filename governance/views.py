"""Browser pages of the review console: the inbox, and the forms of the version page's review
section (decide, write a note, resolve one). Views parse, call one service or selector, and
render or redirect; they never write rows themselves.

A refused decision or note shows the version page again with the error beside the form, what
the user typed kept, and the error's status (400, 403 or 409); a version the user may not see
is a 404 page. Never a 500."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from core.errors import InvalidInput, NotFound, StewardError
from core.filters import page_filterset
from core.pages import form_view, page_view
from governance import queue_selectors, selectors, services
from governance.choices import AnnotationKind
from governance.filters import QueueFilter
from governance.forms import AnnotationForm, DecisionForm, form_values
from governance.models import Annotation
from registry import selectors as registry_selectors
from registry.models import ModelVersion
from registry.views import model_version_page

QUEUE_PAGE_SIZE = 25


@page_view
def inbox(request: HttpRequest) -> HttpResponse:
    """The work queue: what awaits my decision (most urgent, then oldest, first), apart from
    what I watch; both filtered by state, team and risk tier."""
    user = request.user
    filters = page_filterset(QueueFilter, request, ModelVersion.objects.none())
    awaiting = Paginator(
        queue_selectors.queue_page_versions(queue_selectors.awaiting_my_decision(user, filters)),
        QUEUE_PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    watching = Paginator(
        queue_selectors.queue_page_versions(queue_selectors.watching(user, filters)),
        QUEUE_PAGE_SIZE,
    ).get_page(request.GET.get("watching_page"))
    query = request.GET.copy()
    for key in ("page", "watching_page"):
        query.pop(key, None)
    return render(
        request,
        "governance/inbox.html",
        {
            "awaiting": awaiting,
            "awaiting_rows": queue_selectors.queue_rows(awaiting.object_list),
            "watching": watching,
            "watching_rows": queue_selectors.queue_rows(watching.object_list),
            "filters": filters,
            "query_string": query.urlencode(),
        },
    )


@form_view
def version_decide(request: HttpRequest, name: str, version: int) -> HttpResponse:
    """Take a decision (submit, claim, sign off, approve, ...) with a written motivation."""
    model_version = registry_selectors.model_version_get(request.user, name, version)
    try:
        values = form_values(DecisionForm(request.POST))
        decision = services.version_transition(
            actor=request.user,
            version=model_version,
            action=values["action"],
            motivation=values["motivation"],
        )
    except StewardError as exc:
        return _refused(request, model_version, "decision", exc)
    if decision.from_state == decision.to_state:
        outcome = f"it stays {decision.get_to_state_display().lower()}"
    else:
        outcome = f"it is now {decision.get_to_state_display().lower()}"
    messages.success(
        request, f"{decision.get_action_display()} recorded for {model_version}: {outcome}."
    )
    return redirect(_version_url(model_version))


@form_view
def version_annotate(request: HttpRequest, name: str, version: int) -> HttpResponse:
    """Write a note, question or finding on the version, or reply to one."""
    model_version = registry_selectors.model_version_get(request.user, name, version)
    try:
        values = form_values(AnnotationForm(request.POST))
        parent = None
        if values["parent"]:
            parent = selectors.annotations_on(model_version).filter(pk=values["parent"]).first()
            if parent is None:
                raise InvalidInput("The note you answer is not on this version.")
        annotation = services.annotation_create(
            actor=request.user,
            target=model_version,
            body=values["body"],
            kind=values["kind"] or AnnotationKind.NOTE,
            parent=parent,
        )
    except StewardError as exc:
        return _refused(request, model_version, "annotation", exc)
    messages.success(request, f"Your {annotation.get_kind_display().lower()} is posted.")
    return redirect(f"{_version_url(model_version)}#annotation-{annotation.pk}")


@form_view
def version_annotation_resolve(
    request: HttpRequest, name: str, version: int, pk: int
) -> HttpResponse:
    """Resolve a question or finding on the version, with a written motivation."""
    model_version = registry_selectors.model_version_get(request.user, name, version)
    annotation = _annotation_on(model_version, pk)
    try:
        services.annotation_resolve(
            actor=request.user,
            annotation=annotation,
            motivation=request.POST.get("motivation", ""),
        )
    except StewardError as exc:
        return _refused(request, model_version, "annotation", exc)
    messages.success(request, f"{annotation.get_kind_display()} resolved.")
    return redirect(f"{_version_url(model_version)}#annotation-{annotation.pk}")


def _annotation_on(model_version: ModelVersion, pk: int) -> Annotation:
    found = selectors.annotations_on(model_version).filter(pk=pk).first()
    if found is None:
        raise NotFound("There is no such note on this version.")
    return found


def _refused(
    request: HttpRequest, model_version: ModelVersion, form: str, error: StewardError
) -> HttpResponse:
    """The version page again, with the refused form's values and the error beside it."""
    state = {form: {"values": request.POST, "error": error}}
    return model_version_page(request, model_version, status=error.status_code, panel_state=state)


def _version_url(model_version: ModelVersion) -> str:
    return reverse(
        "registry:model-version-detail",
        args=[model_version.registered_model.name, model_version.version],
    )
