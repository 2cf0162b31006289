"""The JSON parser of the prediction log's batches: the API's own checks (core.api.parsers),
with the depth check made on the body's bytes.

A batch of thousands of records is tens of thousands of containers, and walking them for the
depth check cost about as much as parsing the body. Once orjson has parsed the body, it is
valid JSON, and when it holds no backslash no string in it has an escape: every ``"`` byte then
opens or closes a string (UTF-8 never uses that byte inside a character), so the brackets
outside strings, counted in a few numpy passes, give the nesting exactly. A body with a
backslash goes to the walk of core.api.parsers."""

from __future__ import annotations

import numpy as np
from rest_framework.exceptions import ParseError

from core.api import parsers

_QUOTE = ord('"')
# bytes.translate table: an opening bracket to 1, a closing one to -1 (as int8), the rest to 0.
_BRACKET_STEPS = bytes(1 if byte in b"[{" else 255 if byte in b"]}" else 0 for byte in range(256))


def json_bytes_too_deep(raw: bytes, limit: int = parsers.MAX_DEPTH) -> bool | None:
    """For ``raw``, valid JSON: whether it nests arrays and objects more than ``limit``
    levels below the top (``parsers.json_too_deep`` of its value), or None when the bytes
    cannot say (a backslash: an escaped quote may hide in a string)."""
    if b"\\" in raw:
        return None
    data = np.frombuffer(raw, dtype=np.uint8)
    steps = np.frombuffer(raw.translate(_BRACKET_STEPS), dtype=np.int8)
    brackets = np.flatnonzero(steps != 0)
    if not len(brackets):
        return False
    quotes = np.flatnonzero(data == _QUOTE)
    outside = np.searchsorted(quotes, brackets) % 2 == 0  # an even number of quotes before
    depth = np.cumsum(steps[brackets[outside]], dtype=np.int32)
    # The top container is level 0; json_too_deep refuses a container at level limit + 1,
    # that is limit + 2 containers open at once.
    return bool(len(depth)) and int(depth.max()) >= limit + 2


class PredictionBatchParser(parsers.StewardJSONParser):
    """``StewardJSONParser`` (empty body, parse errors, depth, NUL) with the depth checked on
    the bytes when they can say it."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        if not raw.strip():
            raise ParseError("JSON parse error - the body is empty.")
        try:
            data = parsers._loads_uncollected(raw)
        except parsers.orjson.JSONDecodeError as exc:
            if "recursion" in str(exc).lower():
                raise ParseError(f"JSON is nested deeper than {parsers.MAX_DEPTH} levels.") from exc
            raise ParseError(f"JSON parse error - {exc}") from exc
        too_deep = json_bytes_too_deep(raw)
        if too_deep or (too_deep is None and parsers.json_too_deep(data)):
            raise ParseError(f"JSON is nested deeper than {parsers.MAX_DEPTH} levels.")
        if parsers._NUL_ESCAPE in raw and parsers._has_nul(data):
            raise ParseError("JSON strings may not contain NUL (\\u0000) characters.")
        return data
