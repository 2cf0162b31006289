"""Every write of documentation: templates, free-text sections, requesting and generating
documents. Generation itself (:func:`document_generate`) is what the Celery task runs."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.access import may, require
from accounts.choices import Verb
from accounts.models import User
from core.errors import Forbidden, InvalidInput, NotFound
from core.eventlog import audit_event_append
from core.outbox import task_request
from core.safe_files import directory_inside, is_regular_file_inside, move_inside, open_inside
from governance.choices import DocumentStatus
from governance.documents.context import DocumentView, inputs_hash, version_context
from governance.documents.cover import DocumentControl, person
from governance.documents.render import document_render
from governance.documents.sandbox import sections_check
from governance.documents.shipped import MODEL_CARD, shipped_templates
from governance.documents.writers import section_writer, writer_refusal
from governance.models import Decision, DocumentTemplate, FreeTextSection, GeneratedDocument
from registry.models import ModelVersion

# Who may request generation: whoever may annotate the version (contributors, validators,
# managers, administrators of its model; not auditors). Free text is written by the role each
# section names (``governance.documents.writers``).
DOCUMENT_VERB = Verb.ANNOTATE
MAX_FREE_TEXT = 20_000


def template_current(name: str) -> DocumentTemplate:
    """The newest active version of the template ``name``."""
    template = DocumentTemplate.objects.filter(name=name, is_active=True).order_by("-version")
    found = template.first()
    if found is None:
        raise NotFound(f"No documentation template named '{name}'.")
    return found


@transaction.atomic
def document_template_save(
    *,
    actor: User | None,
    name: str,
    title: str,
    sections: list,
    description: str = "",
) -> DocumentTemplate:
    """Add a new version of the template ``name`` (the first if it is new), recorded in the
    audit chain with the sha256 of its sections. Refused with the administrator-facing errors
    when a section does not compile or names an unknown writer."""
    errors = sections_check(sections)
    if errors:
        raise InvalidInput("The template has errors.", field_errors={"sections": errors})
    latest = (
        DocumentTemplate.objects.select_for_update()
        .filter(name=name)
        .aggregate(top=Max("version"))["top"]
    )
    template = DocumentTemplate.objects.create(
        name=name,
        version=(latest or 0) + 1,
        title=title,
        description=description,
        sections=sections,
        created_by=actor,
    )
    audit_event_append(
        actor=actor,
        action="document.template_save",
        subject=template,
        data={
            "template": name,
            "template_version": template.version,
            "title": title,
            "sections_sha256": inputs_hash({"sections": sections}),
            "free_text": {s["key"]: section_writer(s) for s in template.free_text_sections},
        },
    )
    return template


def document_templates_install(*, actor: User | None = None, update: bool = False) -> list[str]:
    """Install the shipped templates that are missing (with ``update``, also add a new version
    of those whose file changed). Returns the names installed or updated."""
    done = []
    for shipped in shipped_templates():
        current = DocumentTemplate.objects.filter(name=shipped.name).order_by("-version").first()
        if current is not None and (
            not update or (current.sections == shipped.sections and current.title == shipped.title)
        ):
            continue
        document_template_save(
            actor=actor, name=shipped.name, title=shipped.title, sections=shipped.sections
        )
        done.append(shipped.name)
    return done


def _free_text_section(template: DocumentTemplate, key: str) -> dict:
    for section in template.free_text_sections:
        if section["key"] == key:
            return section
    raise InvalidInput(
        f"'{template.name}' has no free-text section '{key}'.",
        field_errors={"section": ["Not a free-text section of this template."]},
    )


@transaction.atomic
def free_text_write(
    *,
    actor: User,
    version: ModelVersion,
    template_name: str,
    section_key: str,
    text: str,
    token_scopes: list[str] | None = None,
) -> FreeTextSection:
    """Write (or rewrite) a human-written section of a version's documents. Only the role the
    section names may write it (a validator's assessment: an independent validator, never the
    version's registrant or submitter); ``token_scopes`` are those of the API token the
    request came with (None for a browser session). Recorded in the audit chain with the
    sha256 of the text."""
    require(actor, Verb.VIEW, version)
    template = template_current(template_name)
    section = _free_text_section(template, section_key)
    writer = section_writer(section)
    refusal = writer_refusal(actor, version, writer, token_scopes=token_scopes)
    if refusal:
        raise Forbidden(refusal)
    text = (text or "").strip()
    if not text:
        raise InvalidInput("Write the section.", field_errors={"text": ["Required."]})
    if len(text) > MAX_FREE_TEXT:
        raise InvalidInput(
            "The section is too long.", field_errors={"text": [f"At most {MAX_FREE_TEXT}."]}
        )
    written, created = FreeTextSection.objects.update_or_create(
        version=version,
        template_name=template_name,
        section_key=section_key,
        defaults={"text": text, "written_by": actor},
    )
    audit_event_append(
        actor=actor,
        action="document.free_text_write",
        subject=version,
        scope_model=version.registered_model.name,
        scope_version=version.natural_key,
        data={
            "template": template_name,
            "template_version": template.version,
            "section": section_key,
            "writer": writer,
            "created": created,
            "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
        },
    )
    return written


def can_request_documents(user: User, version: ModelVersion) -> bool:
    """Whether :func:`document_request` would take ``user``'s request for ``version``'s
    documents (the documents panel offers its buttons only then)."""
    return may(user, DOCUMENT_VERB, version)


def document_request(
    *, actor: User, version: ModelVersion, template_name: str
) -> GeneratedDocument:
    """Ask for a document of ``version`` from the current version of ``template_name`` (made
    as the version's owning team sees it, whoever asks). Returns the existing document when
    one was already made (or is being made) from the same inputs; a failed one is queued
    again."""
    require(actor, DOCUMENT_VERB, version)
    return _document_queue(version=version, template=template_current(template_name), by=actor)


def documents_after_decision(decision: Decision) -> list[GeneratedDocument]:
    """Regenerate the documents a review reads after a decision (and on submit): the model
    card and those the policy requires. Called inside the decision's transaction. The
    decision's own audit event is the record of why these were requested."""
    return documents_refresh(version=decision.version, by=decision.actor, audit=False)


def documents_refresh(
    *, version: ModelVersion, by: User, audit: bool = True
) -> list[GeneratedDocument]:
    """Regenerate the model card and the documents the policy requires, because something they
    report changed (a decision, a deployment). Unchanged inputs give the existing documents."""
    from governance.guards import policy_for

    if not settings.DOCUMENTS_AUTO_GENERATE:
        return []
    policy = policy_for(version)
    names = dict.fromkeys([MODEL_CARD, *policy.required_documents, *policy.approval_documents])
    templates = {}
    for name in names:
        try:
            templates[name] = template_current(name)
        except NotFound:
            continue  # the guard reports a required template that does not exist
    return [
        _document_queue(version=version, template=t, by=by, audit=audit) for t in templates.values()
    ]


def documents_required_generate(*, actor: User, version: ModelVersion) -> list[GeneratedDocument]:
    """Request the documents the version's policy requires and render them now, in this
    process (for callers that take the next decision in the same transaction, which the
    after-commit generation would reach too late: the demo's scripted reviews, tests). The
    queued task that follows finds them done. ``actor`` must be allowed to request them."""
    from governance.guards import policy_for

    documents = []
    for name in policy_for(version).required_documents:
        document = document_request(actor=actor, version=version, template_name=name)
        documents.append(document if document.is_done else document_generate(document.pk))
    return documents


@transaction.atomic
def _document_queue(
    *, version: ModelVersion, template: DocumentTemplate, by: User, audit: bool = True
) -> GeneratedDocument:
    # The version's row lock serialises requests for it, so two identical requests cannot
    # both create a row (the unique constraint would refuse the second anyway).
    ModelVersion.objects.select_for_update().filter(pk=version.pk).first()
    visible = DocumentView.of_version(version)
    context = version_context(version, template_name=template.name, visible=visible)
    digest = inputs_hash(context)
    document, created = GeneratedDocument.objects.get_or_create(
        version=version,
        template=template,
        inputs_hash=digest,
        defaults={
            "inputs": context,
            "references": visible.sorted_references(),
            "requested_by": by,
        },
    )
    if not created and document.status != DocumentStatus.FAILED:
        return document
    if not created:
        document.status, document.error, document.requested_by = DocumentStatus.QUEUED, "", by
        document.save(update_fields=["status", "error", "requested_by"])
    _enqueue_on_commit(document.pk)
    if not audit:
        return document
    audit_event_append(
        actor=by,
        action="document.request",
        subject=version,
        scope_model=version.registered_model.name,
        scope_version=version.natural_key,
        data={
            "document": document.pk,
            "template": template.name,
            "template_version": template.version,
            "inputs_hash": digest,
            "retry": not created,
        },
    )
    return document


def _enqueue_on_commit(document_id: int) -> None:
    # Through the outbox: the request commits with the document row and survives a broker
    # outage (the document stays "queued" until a worker takes it).
    task_request("governance.generate_document", document_id)


def _document_claim(document_id: int) -> GeneratedDocument | None:
    """Mark the document running, unless it is already done (a redelivered task)."""
    with transaction.atomic():
        document = (
            GeneratedDocument.objects.select_for_update(of=("self",))
            .select_related("template", "version__registered_model", "requested_by")
            .get(pk=document_id)
        )
        if document.status == DocumentStatus.DONE:
            return None
        document.status = DocumentStatus.RUNNING
        document.attempts += 1
        document.started_at = timezone.now()
        document.save(update_fields=["status", "attempts", "started_at"])
    return document


def document_generate(document_id: int) -> GeneratedDocument:
    """Render a queued document and store its three renderings. Idempotent: a document that is
    already done is left as it is. A template that does not render marks the document failed
    with the message; transient errors (files, database) propagate for the task to retry."""
    from django.template import TemplateSyntaxError

    document = _document_claim(document_id)
    if document is None:
        return GeneratedDocument.objects.get(pk=document_id)
    template = document.template
    footer = (
        f"Generated by Steward from template '{template.name}' version {template.version}; "
        f"inputs sha256 `{document.inputs_hash}`."
    )
    try:
        rendered = document_render(
            title=f"{template.title}: {document.version}",
            sections=template.sections,
            context=document.inputs,
            footer=footer,
            control=_document_control(document, template),
        )
    except (TemplateSyntaxError, KeyError, TypeError, ValueError) as exc:
        return document_fail(document_id, f"Template error: {exc}")
    pdf_path = _pdf_store(rendered.pdf, rendered.pdf_sha256)
    with transaction.atomic():
        document = GeneratedDocument.objects.select_for_update(of=("self",)).get(pk=document_id)
        if document.status == DocumentStatus.DONE:
            return document
        document.markdown, document.markdown_sha256 = rendered.markdown, rendered.markdown_sha256
        document.html, document.html_sha256 = rendered.html, rendered.html_sha256
        document.pdf_path, document.pdf_sha256 = pdf_path, rendered.pdf_sha256
        document.pdf_size = len(rendered.pdf)
        document.status, document.error = DocumentStatus.DONE, ""
        document.finished_at = timezone.now()
        document.save()
        _audit_generated(document, template)
    return document


def _document_control(document: GeneratedDocument, template: DocumentTemplate) -> DocumentControl:
    by = document.requested_by
    return DocumentControl(
        template_name=template.name,
        template_title=template.title,
        template_version=template.version,
        generated_by=person(by.get_username(), str(by)) if by else "",
        generated_at=timezone.now(),
        inputs_sha256=document.inputs_hash,
    )


def _audit_generated(document: GeneratedDocument, template: DocumentTemplate) -> None:
    version = document.version
    audit_event_append(
        actor=document.requested_by,
        action="document.generate",
        subject=version,
        scope_model=version.registered_model.name,
        scope_version=version.natural_key,
        data={
            "document": document.pk,
            "template": template.name,
            "template_version": template.version,
            "inputs_hash": document.inputs_hash,
            "markdown_sha256": document.markdown_sha256,
            "html_sha256": document.html_sha256,
            "pdf_sha256": document.pdf_sha256,
            "attempts": document.attempts,
        },
    )


def document_fail(document_id: int, message: str) -> GeneratedDocument:
    """Record that a document could not be generated, with the message users will see."""
    with transaction.atomic():
        document = (
            GeneratedDocument.objects.select_for_update(of=("self",))
            .select_related("version__registered_model", "template")
            .get(pk=document_id)
        )
        if document.status == DocumentStatus.DONE:
            return document
        document.status, document.error = DocumentStatus.FAILED, message[:2000]
        document.finished_at = timezone.now()
        document.save(update_fields=["status", "error", "finished_at"])
        version = document.version
        audit_event_append(
            actor=None,
            action="document.fail",
            subject=version,
            scope_model=version.registered_model.name,
            scope_version=version.natural_key,
            data={"document": document.pk, "template": document.template.name, "error": message},
        )
    return document


def pdf_file(document: GeneratedDocument) -> Path:
    """Where the document's PDF is stored."""
    return Path(settings.DOCUMENTS_ROOT) / document.pdf_path


def pdf_open(document: GeneratedDocument) -> BinaryIO:
    """The document's PDF opened for reading, never through a link inside DOCUMENTS_ROOT."""
    root = Path(settings.DOCUMENTS_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    return open_inside(root, document.pdf_path)


def _pdf_store(content: bytes, sha256: str) -> str:
    """Store the PDF by its sha256 (written to a temporary file, then renamed: a reader never
    sees half a file, and storing the same PDF twice is harmless). Directories are made and the
    rename done without following links, so a link planted in the folder is replaced, not
    written through."""
    relative = f"{sha256[:2]}/{sha256}.pdf"
    root = Path(settings.DOCUMENTS_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    if is_regular_file_inside(root, relative):
        return relative
    fd, temp = tempfile.mkstemp(dir=directory_inside(root, sha256[:2]), suffix=".part")
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    move_inside(Path(temp), root, relative)
    return relative
