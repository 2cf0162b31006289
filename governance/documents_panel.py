"""The documents section of the version page: each document with its status and whether it
is current, the newest one the user may read shown inline, downloads, regenerate buttons, and
the free-text sections with who wrote them and a form for those the user may write.
Registered by ``GovernanceConfig.ready()``.

A document names records of the version's owning team; a user who may see the version but not
all of those (a model-scoped reviewer, say) sees it listed, never its content."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from governance.choices import DocumentStatus
from governance.documents.selectors import (
    UNREADABLE,
    FreeTextStatus,
    StalenessCache,
    current_templates,
    document_list,
    document_readable,
    free_text_status,
)
from governance.documents.writers import version_authors, writer_label, writer_refusal
from governance.models import GeneratedDocument
from governance.services.documents import can_request_documents
from registry.models import ModelVersion
from registry.permissions import Visibility

TEMPLATE = "governance/documents_panel.html"


class DocumentState:
    """What the panel says about the newest document of a template."""

    CURRENT = "current"
    OUT_OF_DATE = "out_of_date"
    GENERATING = "generating"
    FAILED = "failed"

    LABELS = {
        CURRENT: "current",
        OUT_OF_DATE: "out of date",
        GENERATING: "generating",
        FAILED: "failed",
    }


@dataclass
class DocumentRow:
    """One generated document as the panel lists it. ``stale`` is judged only for the newest
    document of a template (an earlier one is history, not a claim about the version)."""

    document: GeneratedDocument
    stale: bool
    latest: bool
    readable: bool = True

    @property
    def state(self) -> str:
        status = self.document.status
        if status in (DocumentStatus.QUEUED, DocumentStatus.RUNNING):
            return DocumentState.GENERATING
        if status == DocumentStatus.FAILED:
            return DocumentState.FAILED
        return DocumentState.OUT_OF_DATE if self.stale else DocumentState.CURRENT

    @property
    def state_label(self) -> str:
        return DocumentState.LABELS[self.state]


@dataclass
class DocumentGroup:
    """The documents of one template: the newest, and the earlier ones (newest first)."""

    latest: DocumentRow
    history: list[DocumentRow]

    @property
    def template_name(self) -> str:
        return self.latest.document.template.name

    @property
    def title(self) -> str:
        return self.latest.document.template.title

    @property
    def previous_done(self) -> DocumentRow | None:
        """The newest earlier document that is done: readable while the newest is still
        being generated or failed."""
        if self.latest.document.status == DocumentStatus.DONE:
            return None
        return next((r for r in self.history if r.document.status == DocumentStatus.DONE), None)


@dataclass
class FreeTextEntry:
    """A free-text section as the panel shows it to one user."""

    status: FreeTextStatus
    may_write: bool
    writer_label: str


def document_rows(version: ModelVersion, user=None) -> list[DocumentRow]:
    """Documents newest first. The newest document of each template is judged against the
    version as it is now: out of date when its inputs changed or its template has a newer
    version. ``readable`` says whether ``user`` may read each one's content."""
    cache = StalenessCache(version)
    current = {t.name: t.pk for t in current_templates()}
    visible = Visibility(user) if user is not None else None
    seen: set[str] = set()
    rows = []
    for document in document_list(version):
        name = document.template.name
        latest = name not in seen
        seen.add(name)
        stale = (
            latest
            and document.status == DocumentStatus.DONE
            and (
                current.get(name, document.template_id) != document.template_id
                or cache.is_stale(document)
            )
        )
        readable = visible is None or document_readable(user, document, visible)
        rows.append(DocumentRow(document, stale, latest, readable))
    return rows


def document_groups(rows: list[DocumentRow]) -> list[DocumentGroup]:
    """The rows grouped per template (in the order of each template's newest document)."""
    groups: dict[str, DocumentGroup] = {}
    for row in rows:
        name = row.document.template.name
        if name in groups:
            groups[name].history.append(row)
        else:
            groups[name] = DocumentGroup(latest=row, history=[])
    return list(groups.values())


def free_text_entries(user, version: ModelVersion) -> list[FreeTextEntry]:
    """The free-text sections, each with whether ``user`` may write it (its role's verb, and
    independence from the version for the reviewers' sections)."""
    authors = version_authors(version)
    return [
        FreeTextEntry(
            status,
            not writer_refusal(user, version, status.writer, authors=authors),
            writer_label(status.writer),
        )
        for status in free_text_status(version)
    ]


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
    rows = document_rows(version, request.user)
    shown_id = request.GET.get("document")
    asked = next((r for r in rows if str(r.document.pk) == shown_id), None)
    refused = asked is not None and not asked.readable
    shown = asked.document if asked is not None and asked.readable else None
    if shown is None and not refused:
        shown = next(
            (r.document for r in rows if r.document.status == DocumentStatus.DONE and r.readable),
            None,
        )
        # Collapsed unless the reader asked for this document: the card is pages long.
    sections = free_text_entries(request.user, version)
    return {
        "mv": version,
        "groups": document_groups(rows),
        "history_count": sum(1 for r in rows if not r.latest),
        "templates": current_templates(),
        "shown": shown,
        "shown_open": asked is not None,
        "shown_html": inline_html(shown),
        "unreadable": UNREADABLE if refused else "",
        "free_text": sections,
        "missing_count": sum(1 for s in sections if s.status.missing),
        "may_write": can_request_documents(request.user, version),
        "free_text_form": state.get("free_text", {}),
    }
