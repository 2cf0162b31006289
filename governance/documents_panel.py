"""The documents section of the version page: each document with its status and whether it
is current, the newest one shown inline, downloads, regenerate buttons, and the free-text
sections with a form to write them. Registered by ``GovernanceConfig.ready()``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from accounts.access import perm_for
from governance.choices import DocumentStatus
from governance.documents.selectors import (
    StalenessCache,
    current_templates,
    document_list,
    free_text_status,
)
from governance.models import GeneratedDocument
from governance.services.documents import DOCUMENT_VERB
from registry.models import ModelVersion

TEMPLATE = "governance/documents_panel.html"


@dataclass
class DocumentRow:
    """One generated document as the panel lists it."""

    document: GeneratedDocument
    stale: bool
    latest: bool


def document_rows(version: ModelVersion) -> list[DocumentRow]:
    """Documents newest first; staleness is judged for the newest done one of each template."""
    cache = StalenessCache(version)
    seen: set[str] = set()
    rows = []
    for document in document_list(version):
        latest = document.template.name not in seen
        seen.add(document.template.name)
        stale = latest and document.status == DocumentStatus.DONE and cache.is_stale(document)
        rows.append(DocumentRow(document, stale, latest))
    return rows


def inline_html(document: GeneratedDocument | None) -> SafeString:
    """The body of a done document for the page. The stored HTML was sanitised by nh3 when it
    was rendered; the page shows only the part inside ``<body>``."""
    if document is None or document.status != DocumentStatus.DONE:
        return mark_safe("")  # noqa: S308
    html = GeneratedDocument.objects.values_list("html", flat=True).get(pk=document.pk)
    start, end = html.find("<body>"), html.rfind("</body>")
    return mark_safe(html[start + len("<body>") : end] if start >= 0 else "")  # noqa: S308


def documents_panel_context(
    request: HttpRequest, version: ModelVersion, state: Mapping[str, Any]
) -> dict[str, Any]:
    """What the documents section shows ``request.user`` about ``version``. ``state`` may hold
    a refused free-text form (``{"free_text": {"key", "template", "values", "error"}}``)."""
    rows = document_rows(version)
    shown_id = request.GET.get("document")
    shown = next((r.document for r in rows if str(r.document.pk) == shown_id), None)
    if shown is None:
        shown = next((r.document for r in rows if r.document.status == DocumentStatus.DONE), None)
    sections = free_text_status(version)
    return {
        "mv": version,
        "rows": rows,
        "templates": current_templates(),
        "shown": shown,
        "shown_html": inline_html(shown),
        "free_text": sections,
        "missing_count": sum(1 for s in sections if s.missing),
        "may_write": request.user.has_perm(perm_for(DOCUMENT_VERB, version), version),
        "free_text_form": state.get("free_text", {}),
    }
