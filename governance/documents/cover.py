"""The cover page of a document's HTML and PDF: document control (what it is about, from which
template, made by whom and when, and the hashes that let a reader check it) and the sign-off
block (who signed off or approved, in which role, when, and why).

Everything comes from the document's stored inputs and its row, so the cover says what the
record said when the document was made. The content hash is the sha256 of the document's
Markdown (downloadable beside the PDF): the PDF cannot carry its own hash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.template.loader import render_to_string

from governance.choices import Action

COVER_TEMPLATE = "governance/document_cover.html"
# The decisions the sign-off block lists: the judgements, not the moves of the process.
SIGN_OFF_ACTIONS = (Action.SIGN_OFF, Action.APPROVE, Action.PROMOTE)


@dataclass(frozen=True)
class DocumentControl:
    """What the cover says about how the document was made."""

    template_name: str
    template_title: str
    template_version: int
    generated_by: str
    generated_at: datetime
    inputs_sha256: str


def person(username: str, full_name: str = "") -> str:
    """A person as documents name them: full name and username, or the username alone."""
    return f"{full_name} ({username})" if full_name and full_name != username else username


def sign_offs(context: dict[str, Any]) -> list[dict[str, str]]:
    """The sign-off block's rows, oldest first."""
    return [
        {
            "who": person(str(d.get("actor", "")), str(d.get("actor_name", "") or "")),
            "role": str(d.get("role", "") or ""),
            "decision": str(d.get("action_label", d.get("action", ""))),
            "round": str(d.get("round", "")),
            "at": str(d.get("at", "") or "")[:16].replace("T", " "),
            "motivation": str(d.get("motivation", "")),
        }
        for d in context.get("decisions", [])
        if isinstance(d, dict) and d.get("action") in SIGN_OFF_ACTIONS
    ]


def cover_html(*, control: DocumentControl, context: dict[str, Any], markdown_sha256: str) -> str:
    """The cover as an HTML fragment (escaped by the template engine)."""
    model, version = context.get("model", {}), context.get("version", {})
    return render_to_string(
        COVER_TEMPLATE,
        {
            "control": control,
            "model": model,
            "version": version,
            "generated_at": control.generated_at.strftime("%Y-%m-%d %H:%M UTC"),
            "markdown_sha256": markdown_sha256,
            "sign_offs": sign_offs(context),
        },
    )
