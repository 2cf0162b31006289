"""Browser forms of the version page's documents section: request a document, write a
free-text section, download a file. Thin: parse, call one service, redirect or render."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from core.errors import NotFound, StewardError
from core.pages import form_view, page_view
from governance.documents.download import document_download_response
from governance.documents.selectors import document_list
from governance.services.documents import document_request, free_text_write
from registry import selectors
from registry.models import ModelVersion
from registry.views import model_version_page


def _documents_url(model_version: ModelVersion) -> str:
    url = reverse(
        "registry:model-version-detail",
        args=[model_version.registered_model.name, model_version.version],
    )
    return f"{url}#documents"


@form_view
def version_document_request(request: HttpRequest, name: str, version: int) -> HttpResponse:
    """Generate (or regenerate) a document of the version from a template."""
    model_version = selectors.model_version_get(request.user, name, version)
    document = document_request(
        actor=request.user, version=model_version, template_name=request.POST.get("template", "")
    )
    if document.is_done:
        messages.info(request, f"{document.template.title} is already current.")
    else:
        messages.success(request, f"{document.template.title}: generation requested.")
    return redirect(_documents_url(model_version))


@form_view
def version_free_text(request: HttpRequest, name: str, version: int) -> HttpResponse:
    """Write one of the sections people fill in."""
    model_version = selectors.model_version_get(request.user, name, version)
    template, key = request.POST.get("template", ""), request.POST.get("section", "")
    try:
        free_text_write(
            actor=request.user,
            version=model_version,
            template_name=template,
            section_key=key,
            text=request.POST.get("text", ""),
        )
    except StewardError as exc:
        state = {
            "free_text": {"template": template, "key": key, "values": request.POST, "error": exc}
        }
        return model_version_page(request, model_version, status=exc.status_code, panel_state=state)
    messages.success(request, "Section saved. Regenerate the documents to include it.")
    return redirect(_documents_url(model_version))


@page_view
def version_document_download(
    request: HttpRequest, name: str, version: int, pk: int, fmt: str
) -> HttpResponse:
    """A document's PDF, Markdown or HTML as an attachment."""
    model_version = selectors.model_version_get(request.user, name, version)
    document = document_list(model_version).defer(None).filter(pk=pk).first()
    if document is None:
        raise NotFound("There is no such document of this version.")
    return document_download_response(document, fmt, user=request.user)
