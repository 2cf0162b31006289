"""The prediction log's parser refuses exactly what the API's JSON parser refuses: its depth
check on the bytes agrees with the walk of the parsed value."""

from __future__ import annotations

import io
import json

import pytest
from rest_framework.exceptions import ParseError

from core.api.parsers import MAX_DEPTH, StewardJSONParser, json_too_deep
from monitoring.api.parsers import PredictionBatchParser, json_bytes_too_deep
from monitoring.api.views import PredictionLogViewSet


def _nested(levels: int, *, kind: str = "list", leaf=1):
    value = leaf
    for level in range(levels):
        value = [value] if kind == "list" or level % 2 else {"k": value, "s": "[{"}
    return value


def _batch(inner) -> dict:
    return {"records": [{"request_id": "r", "inputs": {"x": 1.5}, "outputs": inner}]}


VALUES = [
    *(_batch(_nested(levels)) for levels in range(MAX_DEPTH - 3, MAX_DEPTH + 2)),
    *(_batch(_nested(levels, kind="mixed")) for levels in range(MAX_DEPTH - 3, MAX_DEPTH + 2)),
    *(_nested(levels) for levels in range(MAX_DEPTH, MAX_DEPTH + 4)),
    _batch({"text": "[" * 40 + "{" * 40}),  # brackets inside strings are no nesting
    _batch({"text": "]]]]}}}}", "more": [[[[["ü ] é"]]]]]}),
    {"records": []},
    [],
    {},
    "just a string [[[[",
    42,
]


@pytest.mark.parametrize("value", VALUES)
def test_the_byte_check_agrees_with_the_walk(value):
    raw = json.dumps(value, ensure_ascii=False).encode()
    assert json_bytes_too_deep(raw) is json_too_deep(value)


def test_the_limit_is_the_walks():
    """The deepest value the walk takes is taken, one level more is refused."""
    deepest = next(n for n in range(60) if json_too_deep(_nested(n + 1)))
    assert json_bytes_too_deep(json.dumps(_nested(deepest)).encode()) is False
    assert json_bytes_too_deep(json.dumps(_nested(deepest + 1)).encode()) is True


def test_a_body_with_a_backslash_is_left_to_the_walk():
    raw = json.dumps(_batch({"text": 'a "quoted" [word'})).encode()
    assert b"\\" in raw
    assert json_bytes_too_deep(raw) is None


BODIES = [
    json.dumps(_batch(_nested(MAX_DEPTH + 1))).encode(),
    json.dumps(_batch({"text": 'escaped " [[[', "deep": _nested(MAX_DEPTH + 1)})).encode(),
    json.dumps(_batch({"text": 'escaped " [[[', "flat": [1, 2]})).encode(),
    json.dumps(_batch({"text": "nul \u0000 here"})).encode(),
    json.dumps(_batch({"text": "no nul, a backslash: \\u0000"})).encode(),
    b"",
    b"   ",
    b'{"records": [',
    b"[" * 2000 + b"]" * 2000,
    json.dumps(_batch(_nested(3))).encode(),
]


def _outcome(parser, raw: bytes):
    try:
        return "ok", parser.parse(io.BytesIO(raw))
    except ParseError as error:
        return "refused", str(error.detail)


@pytest.mark.parametrize("raw", BODIES)
def test_it_refuses_what_the_api_parser_refuses(raw):
    assert _outcome(PredictionBatchParser(), raw) == _outcome(StewardJSONParser(), raw)


def test_the_prediction_log_parses_json_with_it_and_forms_as_before():
    parsers = PredictionLogViewSet.parser_classes
    assert parsers[0] is PredictionBatchParser
    assert StewardJSONParser not in parsers
    assert len(parsers) == 3
