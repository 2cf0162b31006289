"""MLflow's search syntax for registered models and model versions, read into Django filters.

The grammar is the part of MLflow's (``mlflow.utils.search_utils``) that its client and users
send to a registry: conditions joined by ``AND``, each ``<key> <comparator> <value>``, where a
key is an attribute (``name``; for versions also ``run_id``, ``source_path``,
``version_number``) or a tag (``tags.k``, ``tag.k``, with the key in backticks or double quotes
when it holds dots or spaces: ``tag.`mlflow.prompt.is_prompt```). Strings are single- or
double-quoted. Comparators: ``=``, ``!=``, ``LIKE``, ``ILIKE`` (``%`` and ``_`` wildcards, LIKE
case-sensitive on every database), ``IN (...)`` for ``run_id``, and ``< <= > >=`` for
``version_number``.

A tag condition ``tags.k != 'v'`` holds for rows that do not carry the value ``v`` under ``k``,
tag absent included: that is what MLflow's own server answers for the filter its client appends
to every model search (``tag.`mlflow.prompt.is_prompt` != 'true'``, true of every plain model).

Anything else is a :class:`FilterError`, which the views answer as INVALID_PARAMETER_VALUE.
Page tokens are signed (``django.core.signing``) and bound to the filter and order they page
through, so a client can neither forge an offset nor reuse a token with another query.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db.models import Exists, OuterRef, Q

from integrations.models import MlflowModelTag, MlflowVersionTag

MAX_FILTER_LENGTH = 4000
MAX_CONDITIONS = 50
TEXT_COMPARATORS = frozenset({"=", "!=", "LIKE", "ILIKE"})
NUMBER_COMPARATORS = frozenset({"=", "!=", "<", "<=", ">", ">="})
PAGE_TOKEN_SALT = "integrations.mlflow.registry.page"


class FilterError(ValueError):
    """A filter, order or page token that cannot be read; its text says what is wrong."""


@dataclass(frozen=True)
class Condition:
    """One ``<key> <comparator> <value>``: ``tag`` is True for a tag key."""

    key: str
    comparator: str
    value: Any
    tag: bool = False


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<backtick>`[^`]*`)
  | (?P<single>'(?:[^'\\]|\\.)*')
  | (?P<double>"(?:[^"\\]|\\.)*")
  | (?P<number>-?\d+(?![\w.]))
  | (?P<op>!=|<=|>=|=|<|>)
  | (?P<punct>[(),])
  | (?P<word>[A-Za-z_][\w.]*)
    """,
    re.VERBOSE,
)
_KEYWORDS = frozenset({"AND", "LIKE", "ILIKE", "IN"})


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise FilterError(
                f"Cannot read the filter at position {position}: {text[position:][:40]!r}."
            )
        position = match.end()
        kind = match.lastgroup
        if kind == "space":
            continue
        value = match.group()
        if kind == "word" and value.upper() in _KEYWORDS:
            kind, value = "keyword", value.upper()
        tokens.append((kind, value))
    return tokens


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


class _Reader:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens = tokens
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, what: str) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise FilterError(f"The filter ends where {what} was expected.")
        self.position += 1
        return token


def _key(reader: _Reader) -> tuple[str, bool]:
    kind, value = reader.take("a key")
    if kind == "backtick":
        return value[1:-1], False
    if kind != "word":
        raise FilterError(f"Expected a key such as name or tags.<key>, found {value!r}.")
    prefix, _, rest = value.partition(".")
    if prefix.lower() in ("tag", "tags"):
        if not _:
            raise FilterError(f"A tag key is written tags.<key>, found {value!r}.")
        if not rest:  # tag.`quoted.key` or tag."quoted key"
            kind, quoted = reader.take("a quoted tag key")
            if kind not in ("backtick", "double"):
                raise FilterError(f"Expected a tag key after {value!r}, found {quoted!r}.")
            rest = quoted[1:-1] if kind == "backtick" else _unquote(quoted)
        if not rest:
            raise FilterError("A tag key cannot be empty.")
        return rest, True
    if prefix.lower() in ("attribute", "attributes") and rest:
        return rest, False
    return value, False


def _value(reader: _Reader, comparator: str) -> Any:
    if comparator == "IN":
        kind, value = reader.take("a parenthesised list")
        if value != "(":
            raise FilterError("IN takes a parenthesised list of quoted strings.")
        values = []
        while True:
            kind, value = reader.take("a quoted string")
            if kind not in ("single", "double"):
                raise FilterError(f"IN lists hold quoted strings, found {value!r}.")
            values.append(_unquote(value))
            kind, value = reader.take("',' or ')'")
            if value == ")":
                return tuple(values)
            if value != ",":
                raise FilterError(f"Expected ',' or ')' in an IN list, found {value!r}.")
    kind, value = reader.take("a value")
    if kind in ("single", "double"):
        return _unquote(value)
    if kind == "number":
        return int(value)
    raise FilterError(f"Expected a quoted value after {comparator}, found {value!r}.")


def filter_parse(text: str | None) -> list[Condition]:
    """The conditions of an MLflow filter string (empty for none), in order."""
    text = (text or "").strip()
    if not text:
        return []
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterError(f"The filter is longer than {MAX_FILTER_LENGTH} characters.")
    reader = _Reader(_tokens(text))
    conditions = []
    while True:
        key, tag = _key(reader)
        kind, comparator = reader.take("a comparator")
        if kind not in ("op", "keyword") or comparator == "AND":
            raise FilterError(f"Expected a comparator after {key!r}, found {comparator!r}.")
        conditions.append(Condition(key, comparator, _value(reader, comparator), tag))
        if len(conditions) > MAX_CONDITIONS:
            raise FilterError(f"A filter holds at most {MAX_CONDITIONS} conditions.")
        following = reader.peek()
        if following is None:
            return conditions
        if following != ("keyword", "AND"):
            raise FilterError(f"Conditions are joined by AND, found {following[1]!r}.")
        reader.take("AND")


def like_regex(pattern: str) -> str:
    """A SQL LIKE pattern as an anchored regular expression (``%`` any run, ``_`` one
    character), so LIKE is case-sensitive on SQLite too and ILIKE is its ``iregex``."""
    parts = []
    for char in pattern:
        if char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return "^" + "".join(parts) + "$"


def text_q(field: str, comparator: str, value: Any) -> Q:
    """A text comparison on ``field``; ``!=`` is the negation of ``=``."""
    if comparator not in TEXT_COMPARATORS:
        raise FilterError(f"{comparator} does not compare text; use =, !=, LIKE or ILIKE.")
    if not isinstance(value, str):
        raise FilterError(f"Compare text with a quoted string, not {value!r}.")
    if comparator == "=":
        return Q(**{field: value})
    if comparator == "!=":
        return ~Q(**{field: value})
    lookup = "regex" if comparator == "LIKE" else "iregex"
    return Q(**{f"{field}__{lookup}": like_regex(value)})


def tag_q(tag_model, owner_field: str, condition: Condition) -> Q:
    """A tag condition as a subquery on ``tag_model`` (rows whose ``owner_field`` is the
    filtered row): ``!=`` holds where no tag of that key has that value."""
    comparator = "=" if condition.comparator == "!=" else condition.comparator
    matching = tag_model.objects.filter(
        text_q("value", comparator, condition.value),
        key=condition.key,
        **{owner_field: OuterRef("pk")},
    )
    found = Q(Exists(matching))
    return ~found if condition.comparator == "!=" else found


def order_parse(
    clauses: Sequence[str], fields: Mapping[str, str], tiebreak: Sequence[str]
) -> list[str]:
    """``["name ASC", "last_updated_timestamp DESC"]`` as Django ``order_by`` arguments, from
    the MLflow keys in ``fields``; ``tiebreak`` makes the order total so pages never overlap."""
    ordering, seen = [], set()
    for clause in clauses:
        words = str(clause).split()
        if not words or len(words) > 2:
            raise FilterError(f"Cannot read the order {clause!r}: use '<key> [ASC|DESC]'.")
        key = words[0].removeprefix("attribute.").removeprefix("attributes.")
        direction = words[1].upper() if len(words) == 2 else "ASC"
        if key not in fields or direction not in ("ASC", "DESC"):
            raise FilterError(
                f"Cannot order by {clause!r}: the keys are {', '.join(sorted(fields))}, "
                "each ASC or DESC."
            )
        field = fields[key]
        if field in seen:
            raise FilterError(f"The order names {key!r} twice.")
        seen.add(field)
        ordering.append(field if direction == "ASC" else f"-{field}")
    ordering.extend(field for field in tiebreak if field not in seen)
    return ordering


def _query_digest(query: Sequence[Any]) -> str:
    return hashlib.sha256(repr(tuple(query)).encode()).hexdigest()[:16]


def page_token_make(offset: int, query: Sequence[Any]) -> str:
    """The opaque token of the page that starts at ``offset`` of this query."""
    return signing.dumps({"o": offset, "q": _query_digest(query)}, salt=PAGE_TOKEN_SALT)


def page_token_read(token: str | None, query: Sequence[Any]) -> int:
    """The offset a token names (0 for none); a forged token, or one made for another query,
    is a :class:`FilterError`."""
    if not token:
        return 0
    try:
        content = signing.loads(token, salt=PAGE_TOKEN_SALT)
    except signing.BadSignature as exc:
        raise FilterError("Invalid page token.") from exc
    offset = content.get("o") if isinstance(content, dict) else None
    if not isinstance(offset, int) or offset < 0 or content.get("q") != _query_digest(query):
        raise FilterError("Invalid page token: it belongs to another search.")
    return offset


def _number_q(field: str, condition: Condition) -> Q:
    if condition.comparator not in NUMBER_COMPARATORS:
        raise FilterError(f"{condition.comparator} does not compare {condition.key}.")
    try:
        number = int(condition.value)
    except (TypeError, ValueError) as exc:
        raise FilterError(f"{condition.key} is compared with a whole number.") from exc
    if condition.comparator == "!=":
        return ~Q(**{field: number})
    lookup = {"=": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}[condition.comparator]
    return Q(**{f"{field}__{lookup}": number})


def _run_id_q(condition: Condition) -> Q:
    """``run_id`` is the run's UUID in MLflow's 32-hex form; IN takes several."""
    values = condition.value if condition.comparator == "IN" else (condition.value,)
    if condition.comparator not in ("=", "!=", "IN"):
        raise FilterError("run_id is compared with =, != or IN.")
    try:
        keys = [uuid.UUID(str(value)) for value in values]
    except ValueError as exc:
        raise FilterError("A run_id is a 32-character hex run id.") from exc
    found = Q(run__uuid__in=keys)
    return ~found & Q(run__isnull=False) if condition.comparator == "!=" else found


def registered_model_where(text: str | None) -> Q:
    """The filter of ``registered-models/search``: ``name`` and tags."""
    where = Q()
    for condition in filter_parse(text):
        if condition.tag:
            where &= tag_q(MlflowModelTag, "registered_model", condition)
        elif condition.key == "name":
            where &= text_q("name", condition.comparator, condition.value)
        else:
            raise FilterError(
                f"Invalid attribute key '{condition.key}': models are searched by name and tags."
            )
    return where


def model_version_where(text: str | None) -> Q:
    """The filter of ``model-versions/search``: ``name``, ``run_id``, ``source_path``,
    ``version_number`` and tags."""
    where = Q()
    for condition in filter_parse(text):
        if condition.tag:
            where &= tag_q(MlflowVersionTag, "model_version", condition)
        elif condition.key == "name":
            where &= text_q("registered_model__name", condition.comparator, condition.value)
        elif condition.key == "run_id":
            where &= _run_id_q(condition)
        elif condition.key == "source_path":
            registered = text_q("mlflow_source__source", condition.comparator, condition.value)
            own = text_q("artifact_uri", condition.comparator, condition.value)
            where &= (Q(mlflow_source__isnull=False) & registered) | (
                Q(mlflow_source__isnull=True) & own
            )
        elif condition.key == "version_number":
            where &= _number_q("version", condition)
        else:
            raise FilterError(
                f"Invalid attribute key '{condition.key}': versions are searched by name, "
                "run_id, source_path, version_number and tags."
            )
    return where
