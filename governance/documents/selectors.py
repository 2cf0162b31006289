"""Reads of documentation: a version's documents, whether each is current, who may read each
one, and which free-text sections are still to be written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from accounts.models import User
from core.errors import Forbidden
from governance.choices import DocumentStatus
from governance.documents.context import (
    inputs_hash,
    version_context,
    version_context_with_free_text,
)
from governance.documents.writers import DEFAULT_WRITER, SectionWriter, section_writer
from governance.models import DocumentTemplate, FreeTextSection, GeneratedDocument
from registry.models import ModelVersion
from registry.permissions import Visibility

UNREADABLE = (
    "This document names records you may not see (another team's dataset, run or model), so "
    "it is not shown to you. Documents are made as the version's owning team sees it: "
    "regenerate it, or ask someone who may see those records."
)


def document_list(version: ModelVersion) -> QuerySet[GeneratedDocument]:
    """Every document of the version, newest first (the caller checked it may view it)."""
    return (
        GeneratedDocument.objects.filter(version=version)
        .select_related("template", "requested_by")
        .defer("html", "markdown", "inputs")
        .order_by("-created_at", "-id")
    )


def document_readable(user: User, document: GeneratedDocument, visible=None) -> bool:
    """May ``user`` read the document's content (file, page, embedding)? Only if they may see
    every record it names; a document from before these were noted (``references`` null) only
    by those who see everything. The caller has checked that the user may view the version."""
    visible = visible or Visibility(user)
    if document.references is None:
        return visible.scope.everywhere
    return all(
        visible.registered_model(model_id, team_id) if model_id else visible.team(team_id)
        for team_id, model_id in document.references
    )


def document_require_readable(user: User, document: GeneratedDocument) -> None:
    """Refuse (403, with why) a document that names records ``user`` may not see."""
    if not document_readable(user, document):
        raise Forbidden(UNREADABLE)


class StalenessCache:
    """Current inputs hashes, computed once per template for one version: the documents of one
    page or API response share them. (A document no longer depends on who asked for it.)"""

    def __init__(self, version: ModelVersion):
        self.version = version
        self._hashes: dict[str, str] = {}
        self._base: dict | None = None

    def current_hash(self, template_name: str) -> str:
        if template_name not in self._hashes:
            # The record is read once; each template adds only its free-text sections.
            if self._base is None:
                self._base = version_context(self.version)
            context = version_context_with_free_text(self._base, self.version, template_name)
            self._hashes[template_name] = inputs_hash(context)
        return self._hashes[template_name]

    def is_stale(self, document: GeneratedDocument) -> bool:
        """A document is stale when what it was made from has changed since: the version's
        current inputs hash differently."""
        return self.current_hash(document.template.name) != document.inputs_hash


def documents_required_check(version: ModelVersion, required: list[str]) -> list[str]:
    """The problems with the documents a policy requires: for each template name, the newest
    document from its current template version must be done and not stale. Registered as the
    workflow's document checker."""
    problems = []
    cache = StalenessCache(version)
    for name in required:
        template = (
            DocumentTemplate.objects.filter(name=name, is_active=True).order_by("-version").first()
        )
        if template is None:
            problems.append(f"'{name}' is not a documentation template")
            continue
        latest = (
            GeneratedDocument.objects.filter(
                version=version, template=template, status=DocumentStatus.DONE
            )
            .select_related("template", "requested_by")
            .order_by("-finished_at", "-id")
            .first()
        )
        if latest is None:
            problems.append(f"{template.title} has not been generated")
        elif cache.is_stale(latest):
            problems.append(f"{template.title} is out of date")
    return problems


WRITER_LABELS = {
    SectionWriter.DEVELOPER: "a developer",
    SectionWriter.VALIDATOR: "a validator",
    SectionWriter.MANAGER: "an approver",
}


def documents_written_check(version: ModelVersion, required: list[str]) -> list[str]:
    """The sections people still owe in the documents a policy requires for approval, each
    with who writes it: "Validation Report: 'Limitations' not written (by a validator)".
    Registered as the workflow's check of written documents."""
    templates = {t.name: t for t in current_templates() if t.name in required}
    written = set(
        FreeTextSection.objects.filter(version=version, template_name__in=required)
        .exclude(text="")
        .values_list("template_name", "section_key")
    )
    problems = []
    for name in required:
        template = templates.get(name)
        if template is None:
            problems.append(f"'{name}' is not a documentation template")
            continue
        missing = [
            section
            for section in template.free_text_sections
            if (name, section["key"]) not in written
        ]
        if missing:
            owed = ", ".join(
                f"'{section['title']}' (by {WRITER_LABELS[section_writer(section)]})"
                for section in missing
            )
            problems.append(f"{template.title}: not written yet: {owed}")
    return problems


@dataclass(frozen=True)
class FreeTextStatus:
    """One free-text section of a template for a version: written (by whom, when) or
    missing, and the role that writes it."""

    template: DocumentTemplate
    key: str
    title: str
    help: str
    text: str
    writer: str = DEFAULT_WRITER
    written_by: str = ""
    written_at: datetime | None = None

    @property
    def missing(self) -> bool:
        return not self.text


def free_text_status(version: ModelVersion) -> list[FreeTextStatus]:
    """The free-text sections of every current template, with what has been written."""
    written = {
        (s.template_name, s.section_key): s
        for s in FreeTextSection.objects.filter(version=version).select_related("written_by")
    }
    rows = []
    for template in current_templates():
        for section in template.free_text_sections:
            row = written.get((template.name, section["key"]))
            rows.append(
                FreeTextStatus(
                    template=template,
                    key=section["key"],
                    title=section["title"],
                    help=section.get("help", ""),
                    text=row.text if row else "",
                    writer=section_writer(section),
                    written_by=row.written_by.get_username() if row else "",
                    written_at=row.updated_at if row else None,
                )
            )
    return rows


def current_templates() -> list[DocumentTemplate]:
    """The newest active version of every template name."""
    newest: dict[str, DocumentTemplate] = {}
    for template in DocumentTemplate.objects.filter(is_active=True).order_by("name", "-version"):
        newest.setdefault(template.name, template)
    return list(newest.values())
