"""Rendering a document: template sections -> Markdown -> sanitised HTML -> PDF.

Markdown is the source: each section's body is rendered in the sandboxed engine under a
heading, with every value of the record made inline text (``markdown_safety``); a free-text
section is a quotation headed by who wrote it, in which role, and when. HTML is that
Markdown through python-markdown and nh3 (the same sanitiser as annotations), wrapped in a
print stylesheet. The PDF is WeasyPrint's rendering of that HTML with every network and file
fetch refused: a document is made from the record alone."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.utils.html import escape

from core.markdown_text import markdown_html
from governance.documents.cover import DocumentControl, cover_html
from governance.documents.markdown_safety import context_inert, written_block
from governance.documents.sandbox import section_render, section_render_strict
from governance.documents.writers import section_writer, writer_label

MISSING_FREE_TEXT = "_Not written yet: this section is for people to fill in._"

PRINT_CSS = """
@page { size: A4; margin: 2cm 1.8cm; @bottom-right { content: counter(page) " / " counter(pages);
  font-size: 8pt; color: #555; } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; line-height: 1.4; color: #111; }
h1 { font-size: 18pt; margin: 0 0 .3em; } h2 { font-size: 13pt; margin: 1.2em 0 .4em;
  border-bottom: 1px solid #ccc; page-break-after: avoid; } h3 { font-size: 11pt; }
table { border-collapse: collapse; margin: .5em 0; } th, td { border: 1px solid #bbb;
  padding: 2px 6px; text-align: left; vertical-align: top; font-size: 9pt; }
code, pre { font-family: "DejaVu Sans Mono", monospace; font-size: 8.5pt; }
pre { white-space: pre-wrap; word-break: break-all; }
.steward-meta { color: #555; font-size: 8pt; }
blockquote { margin: .4em 0; padding: .2em .8em; border-left: 3px solid #888;
  background: #f4f4f4; }
.steward-cover { page-break-after: always; }
.steward-cover__eyebrow { color: #555; font-size: 9pt; text-transform: uppercase;
  letter-spacing: .05em; margin: 0; }
.steward-cover__title { font-size: 22pt; margin: .2em 0; }
.steward-cover__subject { font-size: 13pt; margin: 0 0 1.2em; }
.steward-control th { width: 9em; background: #f4f4f4; }
.steward-control code { word-break: break-all; }
.steward-signoff td:last-child { width: 45%; }
"""


@dataclass(frozen=True)
class RenderedDocument:
    """The three renderings of one document, with their sha256."""

    markdown: str
    html: str
    pdf: bytes

    @property
    def markdown_sha256(self) -> str:
        return hashlib.sha256(self.markdown.encode()).hexdigest()

    @property
    def html_sha256(self) -> str:
        return hashlib.sha256(self.html.encode()).hexdigest()

    @property
    def pdf_sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()


def free_text_markdown(section: dict[str, Any], context: dict[str, Any]) -> str:
    """A free-text section: the written text as a quotation headed by its author, role and
    time, or the note that it is missing."""
    written = context.get("free_text", {}).get(section["key"])
    if not isinstance(written, dict) or not str(written.get("text", "")).strip():
        return MISSING_FREE_TEXT
    return written_block(
        str(written["text"]),
        author=str(written.get("written_by", "")),
        role=writer_label(section_writer(section)),
        at=str(written.get("written_at") or ""),
    )


def markdown_render(
    *, title: str, sections: list[dict[str, Any]], context: dict[str, Any], footer: str = ""
) -> str:
    """The document's Markdown. Raises ``TemplateSyntaxError`` for a section that does not
    compile (a template saved without validation)."""
    inert = context_inert(context)
    parts = [f"# {title}", ""]
    for section in sections:
        parts += [f"## {section['title']}", ""]
        if section.get("free_text"):
            parts.append(free_text_markdown(section, context))
        else:
            parts.append(section_render(section["body"], inert).strip())
        parts.append("")
    if footer:
        parts += ["---", "", footer, ""]
    return "\n".join(parts)


def markdown_preview(
    *, sections: list[dict[str, Any]], context: dict[str, Any]
) -> tuple[str, list[str]]:
    """A preview of the sections for an administrator, and the unknown variables they use."""
    parts, unknown = [], set()
    inert = context_inert(context)
    for section in sections:
        parts += [f"## {section.get('title', '')}", ""]
        if section.get("free_text"):
            parts.append(free_text_markdown(section, context))
        else:
            text, missing = section_render_strict(section.get("body", ""), inert)
            parts.append(text.strip())
            unknown.update(f"{section.get('key')}: {name}" for name in missing)
        parts.append("")
    return "\n".join(parts), sorted(unknown)


def html_render(markdown_text: str, *, title: str, cover: str = "") -> str:
    """A standalone, sanitised HTML page of the Markdown, styled for print, after its cover
    (rendered by Steward's own template engine with escaping, not from user Markdown)."""
    body = markdown_html(markdown_text)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{PRINT_CSS}</style></head>"
        f"<body>{cover}{body}</body></html>\n"
    )


def pdf_render(html: str) -> bytes:
    """The PDF of an HTML page. Only ``data:`` URIs are fetched; anything else is refused."""
    # Not a cycle: WeasyPrint takes about a second to import; only the document worker needs it.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)
    return HTML(string=html, url_fetcher=fetcher, base_url="data:,").write_pdf()


def document_render(
    *,
    title: str,
    sections: list[dict[str, Any]],
    context: dict[str, Any],
    footer: str = "",
    control: DocumentControl | None = None,
) -> RenderedDocument:
    """Markdown, HTML and PDF of one document; with ``control``, the HTML and PDF open with
    the cover page (document control and sign-offs)."""
    text = markdown_render(title=title, sections=sections, context=context, footer=footer)
    cover = ""
    if control is not None:
        digest = hashlib.sha256(text.encode()).hexdigest()
        cover = cover_html(control=control, context=context, markdown_sha256=digest)
    html = html_render(text, title=title, cover=cover)
    return RenderedDocument(markdown=text, html=html, pdf=pdf_render(html))
