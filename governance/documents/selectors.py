"""Reads of documentation: a version's documents, whether each is current, and which
free-text sections are still to be written."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from governance.choices import DocumentStatus
from governance.documents.context import inputs_hash, version_context
from governance.models import DocumentTemplate, FreeTextSection, GeneratedDocument
from registry.models import ModelVersion


def document_list(version: ModelVersion) -> QuerySet[GeneratedDocument]:
    """Every document of the version, newest first (the caller checked it may view it)."""
    return (
        GeneratedDocument.objects.filter(version=version)
        .select_related("template", "requested_by")
        .defer("html", "markdown", "inputs")
        .order_by("-created_at", "-id")
    )


class StalenessCache:
    """Current inputs hashes, computed once per (template, requester) for one version: the
    documents of one page or API response share them."""

    def __init__(self, version: ModelVersion):
        self.version = version
        self._hashes: dict[tuple[str, int | None], str] = {}

    def current_hash(self, template_name: str, requester) -> str:
        key = (template_name, requester.pk)
        if key not in self._hashes:
            context = version_context(self.version, viewer=requester, template_name=template_name)
            self._hashes[key] = inputs_hash(context)
        return self._hashes[key]

    def is_stale(self, document: GeneratedDocument) -> bool:
        """A document is stale when what it was made from has changed since: the version's
        current inputs, seen by the same requester, hash differently."""
        if document.requested_by is None:
            return True
        return self.current_hash(document.template.name, document.requested_by) != (
            document.inputs_hash
        )


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


@dataclass(frozen=True)
class FreeTextStatus:
    """One free-text section of a template for a version: written or missing."""

    template: DocumentTemplate
    key: str
    title: str
    help: str
    text: str

    @property
    def missing(self) -> bool:
        return not self.text


def free_text_status(version: ModelVersion) -> list[FreeTextStatus]:
    """The free-text sections of every current template, with what has been written."""
    written = {
        (s.template_name, s.section_key): s.text
        for s in FreeTextSection.objects.filter(version=version)
    }
    rows = []
    for template in current_templates():
        for section in template.free_text_sections:
            rows.append(
                FreeTextStatus(
                    template=template,
                    key=section["key"],
                    title=section["title"],
                    help=section.get("help", ""),
                    text=written.get((template.name, section["key"]), ""),
                )
            )
    return rows


def current_templates() -> list[DocumentTemplate]:
    """The newest active version of every template name."""
    newest: dict[str, DocumentTemplate] = {}
    for template in DocumentTemplate.objects.filter(is_active=True).order_by("name", "-version"):
        newest.setdefault(template.name, template)
    return list(newest.values())
