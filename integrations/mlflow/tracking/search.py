"""The part of MLflow's search syntax Steward reads: clauses joined by ``AND``, each
``<key> <op> <value>`` where the key is an attribute (``attributes.status``, ``run_name``,
``name``...), ``tags.<k>``, ``params.<k>`` or ``metrics.<k>`` (a key may be quoted with
backticks or double quotes), the operator one of ``= != < <= > >= LIKE ILIKE``, and the value a
quoted string or a number. ``ORDER BY`` terms are ``<key> [ASC|DESC]``. Anything else is
refused with INVALID_PARAMETER_VALUE, never guessed at."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.errors import InvalidInput

_KINDS = {
    "attributes": "attribute",
    "attribute": "attribute",
    "attr": "attribute",
    "run": "attribute",
    "tags": "tag",
    "tag": "tag",
    "params": "param",
    "param": "param",
    "parameters": "param",
    "parameter": "param",
    "metrics": "metric",
    "metric": "metric",
}
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<quoted_key>`[^`]*`|"[^"]*")
      | (?P<string>'(?:[^']|'')*')
      | (?P<number>-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
      | (?P<op>!=|<=|>=|=|<|>)
      | (?P<word>[A-Za-z_][A-Za-z0-9_.\-/:]*)
      | (?P<dot>\.)
    )""",
    re.VERBOSE,
)
OPERATORS = {"=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE"}


@dataclass(frozen=True)
class Clause:
    kind: str  # attribute, tag, param, metric
    key: str
    op: str
    value: str | float


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise InvalidInput(f"Cannot read the filter at: '{text[position : position + 40]}'.")
        position = match.end()
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
    return tokens


def _key(tokens: list[tuple[str, str]], index: int) -> tuple[str, str, int]:
    """(kind, key, next index) of the key at ``tokens[index]``."""
    kind, text = tokens[index]
    if kind == "quoted_key":
        return "attribute", text[1:-1], index + 1
    if kind != "word":
        raise InvalidInput(f"Expected a key in the filter, found '{text}'.")
    prefix, dot, rest = text.partition(".")
    if dot and prefix.lower() in _KINDS:
        if rest:
            return _KINDS[prefix.lower()], rest, index + 1
        if index + 1 < len(tokens) and tokens[index + 1][0] == "quoted_key":
            return _KINDS[prefix.lower()], tokens[index + 1][1][1:-1], index + 2
        raise InvalidInput(f"Expected a key after '{text}'.")
    if (
        text.lower() in _KINDS
        and index + 2 < len(tokens)
        and tokens[index + 1][0] == "dot"
        and tokens[index + 2][0] == "quoted_key"
    ):
        return _KINDS[text.lower()], tokens[index + 2][1][1:-1], index + 3
    return "attribute", text, index + 1


def filter_parse(text: str | None) -> list[Clause]:
    if not text or not text.strip():
        return []
    if len(text) > 4000:
        raise InvalidInput("The filter is too long.")
    tokens, clauses, index = _tokens(text), [], 0
    while index < len(tokens):
        kind, key, index = _key(tokens, index)
        if index >= len(tokens):
            raise InvalidInput(f"The filter ends after '{key}'.")
        op_kind, op = tokens[index]
        op = op.upper() if op_kind == "word" else op
        if op not in OPERATORS:
            raise InvalidInput(f"Steward's MLflow search does not read the operator '{op}'.")
        if index + 1 >= len(tokens):
            raise InvalidInput(f"The filter ends after '{op}'.")
        value_kind, raw = tokens[index + 1]
        if value_kind == "string":
            value: str | float = raw[1:-1].replace("''", "'")
        elif value_kind == "quoted_key" and raw.startswith('"'):
            value = raw[1:-1]
        elif value_kind == "number":
            value = float(raw)
        else:
            raise InvalidInput(f"Expected a quoted string or a number, found '{raw}'.")
        clauses.append(Clause(kind, key, op, value))
        index += 2
        if index < len(tokens):
            if tokens[index] != ("word", tokens[index][1]) or tokens[index][1].upper() != "AND":
                raise InvalidInput("Steward's MLflow search joins clauses with AND only.")
            index += 1
            if index >= len(tokens):
                raise InvalidInput("The filter ends after AND.")
    return clauses


def _like(pattern: str, value: str, flags: int = 0) -> bool:
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, flags | re.DOTALL) is not None


def _compare(actual: Any, op: str, expected: str | float) -> bool:
    if actual is None:
        return False
    if isinstance(expected, float):
        try:
            actual = float(actual)
        except (TypeError, ValueError):
            return False
    elif op in ("LIKE", "ILIKE"):
        return _like(expected, str(actual), re.IGNORECASE if op == "ILIKE" else 0)
    else:
        actual = str(actual)
    if op in ("LIKE", "ILIKE"):
        raise InvalidInput("LIKE compares strings only.")
    return {
        "=": actual == expected,
        "!=": actual != expected,
        "<": actual < expected,
        "<=": actual <= expected,
        ">": actual > expected,
        ">=": actual >= expected,
    }[op]


Lookup = Callable[[str, str], Any]


def filter_matches(clauses: list[Clause], lookup: Lookup) -> bool:
    """Whether the record ``lookup(kind, key)`` describes passes every clause."""
    return all(_compare(lookup(cl.kind, cl.key), cl.op, cl.value) for cl in clauses)


@dataclass(frozen=True)
class OrderTerm:
    kind: str
    key: str
    ascending: bool


def order_parse(terms: list[str] | None) -> list[OrderTerm]:
    parsed = []
    for term in terms or []:
        if not isinstance(term, str):
            raise InvalidInput("order_by terms are strings.")
        tokens = _tokens(term)
        if not tokens:
            continue
        kind, key, index = _key(tokens, 0)
        ascending = True
        if index < len(tokens):
            word = tokens[index][1].upper()
            if word not in ("ASC", "DESC") or index + 1 != len(tokens):
                raise InvalidInput(f"Cannot read the order_by term '{term[:80]}'.")
            ascending = word == "ASC"
        parsed.append(OrderTerm(kind, key, ascending))
    return parsed


def order_apply(items: list, terms: list[OrderTerm], lookup_of: Callable[[Any], Lookup]) -> list:
    """Sort ``items`` by the terms (missing values last, as MLflow does)."""
    for term in reversed(terms):
        present = [i for i in items if lookup_of(i)(term.kind, term.key) is not None]
        missing = [i for i in items if lookup_of(i)(term.kind, term.key) is None]
        present.sort(
            key=lambda i: _sort_key(lookup_of(i)(term.kind, term.key)), reverse=not term.ascending
        )
        items = present + missing
    return items


def _sort_key(value: Any) -> tuple:
    return (0, value, "") if isinstance(value, (int, float)) else (1, 0, str(value))
