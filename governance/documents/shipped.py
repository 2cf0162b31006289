"""The templates Steward ships, kept as files in ``governance/doc_templates/``.

A file is Markdown with Django template tags, cut into sections by marker comments::

    <!-- template: model-card | Model Card -->
    <!-- section: model_details | Model details -->
    ...the section's body (a Django template producing Markdown)...
    <!-- section: intended_use | Intended use | free_text: developer -->
    ...the help shown to whoever writes this section...

A free-text section names the role that writes it (``developer``, ``validator`` or
``manager``, see ``governance.documents.writers``); without one it is the developers'.

Any other ``<!-- ... -->`` line before the first section is a comment."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "doc_templates"
SHIPPED_FILES = ("model_card.md", "eu_ai_act_annex_iv.md", "sr_11_7_validation.md")
MODEL_CARD = "model-card"

_TEMPLATE_RE = re.compile(r"^<!--\s*template:\s*([a-z0-9-]+)\s*\|\s*(.+?)\s*-->\s*$")
_SECTION_RE = re.compile(
    r"^<!--\s*section:\s*([a-z0-9_]+)\s*\|\s*(.+?)\s*"
    r"(\|\s*free_text(?:\s*:\s*([a-z]+))?\s*)?-->\s*$"
)


@dataclass(frozen=True)
class ShippedTemplate:
    name: str
    title: str
    sections: list[dict[str, Any]]


def shipped_template_parse(text: str) -> ShippedTemplate:
    """A template file as its name, title and section list."""
    name = title = ""
    sections: list[dict[str, Any]] = []
    lines: list[str] = []

    def close() -> None:
        if sections:
            body = "\n".join(lines).strip("\n")
            sections[-1]["help" if sections[-1].get("free_text") else "body"] = body
        lines.clear()

    for line in text.splitlines():
        if match := _TEMPLATE_RE.match(line):
            name, title = match.group(1), match.group(2)
        elif match := _SECTION_RE.match(line):
            close()
            section: dict[str, Any] = {"key": match.group(1), "title": match.group(2)}
            if match.group(3):
                section["free_text"] = True
                if match.group(4):
                    section["writer"] = match.group(4)
            sections.append(section)
        elif sections:
            lines.append(line)
    close()
    if not name or not sections:
        raise ValueError("A template file needs a '<!-- template: -->' line and sections.")
    return ShippedTemplate(name, title, sections)


def shipped_templates() -> list[ShippedTemplate]:
    """Every shipped template, read from its file."""
    return [shipped_template_parse((TEMPLATE_DIR / f).read_text()) for f in SHIPPED_FILES]
