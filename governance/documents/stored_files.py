"""Generated documents' PDFs as files of the content-addressed store (``core.content_store``),
registered by ``GovernanceConfig.ready()``: each is kept under ``DOCUMENTS_ROOT`` by its
SHA-256 (``governance.services.documents``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from core.content_store import StoredFile
from governance.models import GeneratedDocument


def document_stored_files() -> Iterator[StoredFile]:
    """Every generated document with a PDF, as the stored file its row records."""
    root = Path(settings.DOCUMENTS_ROOT)
    rows = (
        GeneratedDocument.objects.exclude(pdf_path="")
        .order_by("pk")
        .values_list("pk", "pdf_path", "pdf_sha256", "pdf_size")
    )
    for pk, relative, sha256, size in rows:
        yield StoredFile(f"document {pk} ({relative})", root, relative, sha256, size)
