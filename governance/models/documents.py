"""Documentation: versioned templates, the human-written sections of a version's documents,
and the documents generated from them."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import models

from governance.choices import DocumentStatus
from governance.documents.sandbox import sections_check


class DocumentTemplate(models.Model):
    """One version of a documentation template: ordered sections, each either a Django template
    producing Markdown (``body``) or a free-text section people write per model version
    (``free_text: true``). Editing a template adds a new version; documents keep pointing at
    the exact version they were rendered from. Only the newest active version of a name is
    used for new documents."""

    name = models.CharField(max_length=64, validators=[validate_slug])
    version = models.PositiveIntegerField(default=1)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    sections = models.JSONField(
        default=list,
        help_text='Ordered list of {"key", "title", "body"} or {"key", "title", "free_text": '
        'true, "help"}. Bodies are Django templates producing Markdown.',
    )
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="unique_doc_template_version")
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"

    def clean(self) -> None:
        errors = sections_check(self.sections)
        if errors:
            raise ValidationError({"sections": errors})

    @property
    def free_text_sections(self) -> list[dict]:
        return [s for s in self.sections if s.get("free_text")]


class FreeTextSection(models.Model):
    """A human-written section of a version's documents (intended use, limitations, ethical
    considerations), kept with the version. A section without a row is shown as missing."""

    version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.PROTECT, related_name="free_text_sections"
    )
    template_name = models.CharField(max_length=64)
    section_key = models.CharField(max_length=64)
    text = models.TextField()
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["template_name", "section_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "template_name", "section_key"],
                name="unique_free_text_section",
            )
        ]

    def __str__(self) -> str:
        return f"{self.template_name}/{self.section_key} of {self.version_id}"


class GeneratedDocument(models.Model):
    """A document rendered for a version from one template version. ``inputs`` is the snapshot
    of everything it was rendered from, taken when it was requested; ``inputs_hash`` (sha256 of
    its canonical JSON) makes generation idempotent (one row per version, template version and
    inputs) and tells when a document is stale (the version's current inputs hash differs).
    Rows are never deleted: earlier documents stay in the trail."""

    version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.PROTECT, related_name="documents"
    )
    template = models.ForeignKey(
        DocumentTemplate, on_delete=models.PROTECT, related_name="documents"
    )
    status = models.CharField(
        max_length=16, choices=DocumentStatus.choices, default=DocumentStatus.QUEUED
    )
    error = models.TextField(blank=True)
    inputs = models.JSONField(default=dict)
    inputs_hash = models.CharField(max_length=64)
    # Every record the document names, as [owner team id, registered model id or null]
    # pairs (a model id where the record is a model's, so a grant on that model is enough).
    # Served only to users who may see all of them; null (documents from before these were
    # kept) means "unknown": only those who see everything may read it.
    references = models.JSONField(null=True, blank=True, default=None)
    markdown = models.TextField(blank=True)
    markdown_sha256 = models.CharField(max_length=64, blank=True)
    html = models.TextField(blank=True)
    html_sha256 = models.CharField(max_length=64, blank=True)
    pdf_path = models.CharField(max_length=300, blank=True, help_text="Under DOCUMENTS_ROOT.")
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    pdf_size = models.BigIntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "template", "inputs_hash"], name="unique_generated_document"
            )
        ]

    def __str__(self) -> str:
        return f"{self.template} for {self.version_id} ({self.status})"

    @property
    def is_done(self) -> bool:
        return self.status == DocumentStatus.DONE
