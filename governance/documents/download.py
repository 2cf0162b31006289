"""A generated document's files as download responses (for the page and the API)."""

from __future__ import annotations

from django.http import FileResponse, HttpResponse

from core.downloads import mark_as_download
from core.errors import Conflict, InvalidInput
from governance.choices import DocumentStatus
from governance.documents.selectors import document_require_readable
from governance.models import GeneratedDocument
from governance.services.documents import pdf_open

FORMATS = {
    "pdf": ("application/pdf", "pdf"),
    "md": ("text/markdown; charset=utf-8", "md"),
    "html": ("text/html; charset=utf-8", "html"),
}


def document_download_response(document: GeneratedDocument, fmt: str, *, user) -> HttpResponse:
    """The document in ``fmt`` (pdf, md, html) as an attachment that browsers will not sniff
    or render in Steward's origin; refused (403) to a user who may not see every record the
    document names."""
    document_require_readable(user, document)
    if fmt not in FORMATS:
        raise InvalidInput(
            "format must be pdf, md or html.", field_errors={"format": ["pdf, md or html."]}
        )
    if document.status != DocumentStatus.DONE:
        raise Conflict(f"The document is {document.get_status_display().lower()}, not ready.")
    content_type, extension = FORMATS[fmt]
    version = document.version
    filename = f"{version.registered_model.name}-v{version.version}-{document.template.name}"
    filename = f"{filename}-{document.pk}.{extension}"
    if fmt == "pdf":
        response: HttpResponse = FileResponse(pdf_open(document), content_type=content_type)
    else:
        text = document.markdown if fmt == "md" else document.html
        response = HttpResponse(text.encode(), content_type=content_type)
    mark_as_download(response, filename, fallback=f"document-{document.pk}.{extension}")
    sha = {"pdf": document.pdf_sha256, "md": document.markdown_sha256, "html": document.html_sha256}
    response["X-Content-SHA256"] = sha[fmt]
    return response
