"""The API's JSON parser: standard JSON, but refusing what the database cannot keep or what
would exhaust the parser (NUL characters in strings, nesting deeper than MAX_DEPTH).

The prediction log takes batches of thousands of records, and a walk over every parsed value
cost as much as the parsing itself. So NUL is looked for in the raw bytes first (strict JSON can
carry one only as the escape ``\\u0000``; raw control characters are invalid) and the depth
walk follows containers only."""

from __future__ import annotations

import gc

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

MAX_DEPTH = 32
_NUL_ESCAPE = b"\\u0000"  # JSON's escapes use a lower-case u


_IS_CONTAINER = frozenset({dict, list}).__contains__


def json_too_deep(value, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests arrays and objects more than ``limit`` levels below the top.
    Only containers are followed, and a container of scalars only (most of a batch: a record's
    inputs) is recognised by one C-level pass over its value types."""
    if type(value) not in (dict, list):
        return False
    stack = [(value, 0)]
    while stack:
        item, level = stack.pop()
        children = item.values() if type(item) is dict else item
        if not any(map(_IS_CONTAINER, map(type, children))):
            continue
        if level >= limit:
            return True
        stack.extend((child, level + 1) for child in children if _IS_CONTAINER(type(child)))
    return False


def _has_nul(value) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _loads_uncollected(raw: bytes):
    """``orjson.loads`` with the cycle collector paused: parsing JSON cannot make a reference
    cycle, yet a batch of thousands of records allocates enough containers to set off dozens
    of collections, each walking everything allocated so far."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return orjson.loads(raw)
    finally:
        if enabled:
            gc.enable()


class StewardJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        if not raw.strip():
            raise ParseError("JSON parse error - the body is empty.")
        try:
            data = _loads_uncollected(raw)
        except orjson.JSONDecodeError as exc:
            if "recursion" in str(exc).lower():
                raise ParseError(f"JSON is nested deeper than {MAX_DEPTH} levels.") from exc
            raise ParseError(f"JSON parse error - {exc}") from exc
        if json_too_deep(data):
            raise ParseError(f"JSON is nested deeper than {MAX_DEPTH} levels.")
        # An escaped backslash followed by "u0000" also matches; the walk then decides.
        if _NUL_ESCAPE in raw and _has_nul(data):
            raise ParseError("JSON strings may not contain NUL (\\u0000) characters.")
        return data


def _form_has_nul(data) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values) for key, values in data.lists()
    )


class StewardFormParser(FormParser):
    """Form bodies, refusing NUL in a field's name or value as the JSON parser does: PostgreSQL
    cannot compare text containing NUL, so a lookup with one would be a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if _form_has_nul(data):
            raise ParseError("Form fields may not contain NUL characters.")
        return data


class StewardMultiPartParser(MultiPartParser):
    """Multipart bodies: the same refusal for the text fields (files are bytes, kept as sent)."""

    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        if _form_has_nul(parsed.data):
            raise ParseError("Form fields may not contain NUL characters.")
        return parsed
