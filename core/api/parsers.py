"""The API's JSON parser: standard JSON, but refusing what the database cannot keep or what
would exhaust the parser (NUL characters in strings, nesting deeper than MAX_DEPTH)."""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


def _check(value, depth: int = 0) -> None:
    stack = [(value, depth)]
    while stack:
        item, level = stack.pop()
        if level > MAX_DEPTH:
            raise ParseError(f"JSON is nested deeper than {MAX_DEPTH} levels.")
        if isinstance(item, str):
            if "\x00" in item:
                raise ParseError("JSON strings may not contain NUL (\\u0000) characters.")
        elif isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in key:
                    raise ParseError("JSON keys may not contain NUL (\\u0000) characters.")
                stack.append((child, level + 1))
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)


class StewardJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(f"JSON is nested deeper than {MAX_DEPTH} levels.") from exc
        _check(data)
        return data
