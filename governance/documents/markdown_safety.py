"""Keeping people's words from passing for Steward's.

A document is Markdown that Steward assembles: its headings, sections, tables and lists are
Steward's statements (the governance record comes from decision rows). Text people wrote (a
version's description, a motivation, a note, a free-text section) is placed inside that
structure and must not be able to add to it: a description must not open a "Governance record"
heading, a note must not add a row to the guard table or an item to the decision list.

- :func:`context_inert` prepares a context for the template engine: every string (and dict
  key) is HTML-escaped and made *inline*: it stays inside the line, paragraph, list item or
  table cell the template puts it in (no heading, list, quote, rule, table row or code fence
  can start from it; its line breaks become ``<br />`` within the line). Values that are
  plain words (names, keys, dates, statuses) come out unchanged, so comparisons and filters
  in templates keep working.
- :func:`written_block` renders a free-text section as a quotation headed by who wrote it and
  when: its own Markdown (paragraphs, lists, emphasis) is kept inside the quotation, its
  headings are demoted to bold text, raw HTML is shown as text.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Every character or sequence a line may break on, in Python's and Markdown's sense.
_LINE_BREAKS = re.compile(r"\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
# What may start a block in Markdown (ATX heading, list, quote, rule, setext underline, table,
# code fence, reference definition, ordered list); ``>`` and ``<`` are escaped already.
_BLOCK_START = re.compile(r"^(?:[#*+\-=_~`|:\[]|\d+[.)])")
_HEADING = re.compile(r"^\s{0,3}#{1,6}(?:\s+(.*?))?\s*#*\s*$")
_RULE_OR_UNDERLINE = re.compile(r"^\s*(?:[=\-]+|[*_~`]{3,}|(?:[-*_]\s*){3,})\s*$")


def _entity(char: str) -> str:
    return f"&#{ord(char)};"


def inline_text(value: str) -> SafeString:
    """``value`` HTML-escaped, on one line, and unable to start a Markdown block: each of its
    lines is stripped and its first character written as an entity when it could start a
    block; empty lines are dropped and the rest joined by ``<br />`` (never a newline, which
    would end a table row or a list item's line); ``|`` is an entity so a table cell cannot
    grow columns."""
    text = escape(value).replace("|", "&#124;")
    lines = []
    for line in _LINE_BREAKS.split(text):
        line = line.strip()
        if not line:
            continue
        if _BLOCK_START.match(line):
            line = _entity(line[0]) + line[1:]
        lines.append(line)
    return mark_safe("<br />".join(lines))  # noqa: S308  (escaped above)


def context_inert(value: Any) -> Any:
    """A copy of a context (plain JSON values) with every string made inline text."""
    if isinstance(value, str):
        return inline_text(value)
    if isinstance(value, dict):
        return {
            inline_text(k) if isinstance(k, str) else k: context_inert(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [context_inert(v) for v in value]
    return value


def written_text(text: str) -> str:
    """Free text as Markdown that can only be body text: HTML shown as text, headings demoted
    to bold lines, rules and setext underlines dropped, fences shown as text."""
    lines = []
    for line in _LINE_BREAKS.split(escape(text)):
        heading = _HEADING.match(line)
        if heading:
            title = (heading.group(1) or "").strip()
            line = f"**{title}**" if title else ""
        elif _RULE_OR_UNDERLINE.match(line):
            line = ""
        elif line.lstrip().startswith(("```", "~~~")):
            stripped = line.lstrip()
            line = _entity(stripped[0]) + stripped[1:]
        lines.append(line.rstrip())
    return "\n".join(lines).strip("\n")


def written_block(text: str, *, author: str, role: str, at: str) -> str:
    """A free-text section as a delimited quotation: who wrote it (and in which role) and when,
    then their words. Every line is quoted, so nothing they wrote continues outside it."""
    when = at[:16].replace("T", " ") if at else ""
    header = f"*Written by {inline_text(author)} ({role}){f' on {when} UTC' if when else ''}:*"
    body = written_text(text)
    quoted = [f"> {header}", ">"] + [f"> {line}" if line else ">" for line in body.split("\n")]
    return "\n".join(quoted)
