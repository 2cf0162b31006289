"""The API's JSON parser: standard JSON, but refusing what the database cannot keep or what
would exhaust the parser (NUL characters in strings, nesting deeper than MAX_DEPTH).

Both refusals are decided on the raw bytes, at C speed, because the prediction log takes
batches of thousands of records and a walk over every parsed value cost as much as the
parsing itself: strict JSON can only carry a NUL as the escape ``\\u0000`` (raw control
characters are invalid), and the nesting depth is the running count of brackets once strings
are cut out."""

from __future__ import annotations

import re

import numpy as np
import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NUL_ESCAPE = re.compile(rb"\\u0000", re.IGNORECASE)
_OPEN = np.frombuffer(b"[{", dtype=np.uint8)
_CLOSE = np.frombuffer(b"]}", dtype=np.uint8)


def json_depth(raw: bytes) -> int:
    """How deeply ``raw`` (valid JSON) nests arrays and objects."""
    skeleton = np.frombuffer(_STRING.sub(b'""', raw), dtype=np.uint8)
    steps = np.isin(skeleton, _OPEN).astype(np.int32) - np.isin(skeleton, _CLOSE)
    return int(np.cumsum(steps).max()) if len(steps) else 0


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


class StewardJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        if not raw.strip():
            raise ParseError("JSON parse error - the body is empty.")
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            if "recursion" in str(exc).lower():
                raise ParseError(f"JSON is nested deeper than {MAX_DEPTH} levels.") from exc
            raise ParseError(f"JSON parse error - {exc}") from exc
        if json_depth(raw) > MAX_DEPTH:
            raise ParseError(f"JSON is nested deeper than {MAX_DEPTH} levels.")
        # An escaped backslash followed by "u0000" also matches; the walk then decides.
        if _NUL_ESCAPE.search(raw) and _has_nul(data):
            raise ParseError("JSON strings may not contain NUL (\\u0000) characters.")
        return data
