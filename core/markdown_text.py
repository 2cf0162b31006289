"""Markdown written by people (annotations, free-text sections, documentation templates)
rendered to HTML that is safe to put in a page or a PDF.

It lives in ``core`` because pages, the admin, documents and the API all show such text: the
document renderer and the review section must not reach into the API layer for it."""

from __future__ import annotations

import markdown
import nh3

MARKDOWN_EXTENSIONS = ("fenced_code", "tables")


def markdown_html(text: str) -> str:
    """Markdown rendered to HTML and sanitised: no scripts, no event handlers, no styles."""
    return nh3.clean(markdown.markdown(text, extensions=list(MARKDOWN_EXTENSIONS)))
