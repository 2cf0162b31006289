"""The template engine documentation templates run in.

Administrators write section bodies in Django's template language. They run in their own
``Engine`` with no loaders and a restricted tag library: no ``include``/``extends`` (no file
access), no ``load`` (no other tag libraries), no ``debug`` (no context dump), no ``url`` or
``csrf_token``. Django templates cannot call methods with arguments and the context holds only
plain JSON values, so a template can read the record and nothing else. Output is autoescaped.
"""

from __future__ import annotations

import re
from typing import Any

from django.template import Context, Engine, Library, TemplateSyntaxError, defaulttags

from governance.documents.writers import SectionWriter

# Plain control flow and formatting only.
SAFE_TAGS = (
    "autoescape",
    "comment",
    "cycle",
    "filter",
    "firstof",
    "for",
    "if",
    "ifchanged",
    "now",
    "regroup",
    "resetcycle",
    "spaceless",
    "templatetag",
    "verbatim",
    "widthratio",
    "with",
)

register = Library()
for _name in SAFE_TAGS:
    register.tags[_name] = defaulttags.register.tags[_name]

# A marker no real value contains: where it appears in a preview, a variable was unknown.
UNKNOWN_MARK = "\u2063UNKNOWN:%s\u2063"
_UNKNOWN_RE = re.compile("\u2063UNKNOWN:(.*?)\u2063")
_BUILTINS = ["django.template.defaultfilters", "governance.documents.sandbox"]


def _sandboxed_engine(**options: Any) -> Engine:
    """An engine whose only built-in tags and filters are the safe ones. ``Engine`` always
    adds Django's default tag libraries to the ``builtins`` it is given, so they are replaced
    after construction."""
    engine = Engine(loaders=[], libraries={}, autoescape=True, **options)
    engine.builtins = list(_BUILTINS)
    engine.template_builtins = engine.get_template_builtins(engine.builtins)
    return engine


_engine = _sandboxed_engine()
_strict_engine = _sandboxed_engine(string_if_invalid=UNKNOWN_MARK)


def section_compile(body: str, *, strict: bool = False):
    """The compiled template of one section body; raises ``TemplateSyntaxError``."""
    return (_strict_engine if strict else _engine).from_string(body)


def section_render(body: str, context: dict[str, Any]) -> str:
    """Render one section body for generation: unknown variables render as empty text."""
    return section_compile(body).render(Context(context, autoescape=True))


def section_render_strict(body: str, context: dict[str, Any]) -> tuple[str, list[str]]:
    """Render one section for a preview; returns the text and the unknown variables used."""
    text = section_compile(body, strict=True).render(Context(context, autoescape=True))
    unknown = sorted(set(_UNKNOWN_RE.findall(text)))
    return _UNKNOWN_RE.sub(lambda m: f"[unknown: {m.group(1)}]", text), unknown


def sections_check(sections: Any) -> list[str]:
    """The problems of a template's section list, as messages for the administrator: its
    shape (keys, titles, unique keys) and each body's syntax. Empty when it is good."""
    if not isinstance(sections, list) or not sections:
        return ["Sections must be a non-empty list."]
    errors: list[str] = []
    seen: set[str] = set()
    for index, section in enumerate(sections, start=1):
        if not isinstance(section, dict):
            errors.append(f"Section {index} is not an object.")
            continue
        key = section.get("key")
        if not isinstance(key, str) or not re.fullmatch(r"[a-z0-9_]{1,64}", key):
            errors.append(f"Section {index} needs a key of lowercase letters, digits and _.")
        elif key in seen:
            errors.append(f"Section key '{key}' is used twice.")
        else:
            seen.add(key)
        if not isinstance(section.get("title"), str) or not section.get("title"):
            errors.append(f"Section {index} needs a title.")
        if section.get("free_text"):
            writer = section.get("writer")
            if writer is not None and writer not in SectionWriter.values:
                errors.append(
                    f"Section '{key}': writer must be one of {', '.join(SectionWriter.values)}."
                )
            continue
        body = section.get("body")
        if not isinstance(body, str):
            errors.append(f"Section {index} needs a body (or free_text: true).")
            continue
        try:
            section_compile(body)
        except TemplateSyntaxError as exc:
            errors.append(f"Section '{key}': template error: {exc}")
    return errors
