"""The read behind every bearer-token request: the token, its user and the user's roles in one
query.

A request with a token always asks both (who is calling, then what they may do), so reading them
apart cost a second round trip, and the token's ORM query, with its user joined, was compiled
again on every request. Here the statement is built once per process from the models'
metadata; each request runs it with the token's hash and builds the rows the way the ORM would
(its converters included). Nothing is kept between requests: a token revoked, a user disabled
or a role removed is seen by the next request."""

from __future__ import annotations

import json
from functools import cache

from django.db import connection

from accounts.access import _ACCESS_SQL, user_access
from accounts.models import ApiToken, User

# The aggregate that turns the user's access rows into one JSON array, per database.
_ACCESS_ROWS_AS_JSON = {
    "postgresql": "CAST(json_agg(json_build_array({cols})) AS TEXT)",
    "sqlite": "json_group_array(json_array({cols}))",
}
_ACCESS_COLUMNS = ("kind", "name", "team_id", "content_type_id", "object_pk")


@cache
def _statement() -> tuple[str, list, list, int] | None:
    """The SQL and, per selected column of each model, its attribute name and converters (as
    the ORM's compiler applies them). None for a database without a JSON aggregate here."""
    aggregate = _ACCESS_ROWS_AS_JSON.get(connection.vendor)
    if aggregate is None:
        return None
    quote = connection.ops.quote_name
    token_table, user_table = ApiToken._meta.db_table, User._meta.db_table

    def columns(model, table):
        fields = model._meta.concrete_fields
        converters = []
        for field in fields:
            col = field.get_col(table)
            found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            converters.append([(converter, col) for converter in found])
        selected = [f"{quote(table)}.{quote(field.column)}" for field in fields]
        return [field.attname for field in fields], converters, selected

    token_names, token_converters, token_selected = columns(ApiToken, token_table)
    user_names, user_converters, user_selected = columns(User, user_table)
    owner = f"{quote(token_table)}.{quote(ApiToken._meta.get_field('user').column)}"
    access = aggregate.format(cols=", ".join(f"a.{quote(c)}" for c in _ACCESS_COLUMNS))
    token_hash = f"{quote(token_table)}.{quote(ApiToken._meta.get_field('secret_hash').column)}"
    sql = f"""
        SELECT {", ".join(token_selected + user_selected)},
               (SELECT {access} FROM ({_ACCESS_SQL(owner)}) a)
          FROM {quote(token_table)} INNER JOIN {quote(user_table)}
            ON {owner} = {quote(user_table)}.{quote(User._meta.pk.column)}
         WHERE {token_hash} = %s
    """  # noqa: S608 - identifiers from model metadata; the hash is a parameter
    return (
        sql,
        list(zip(token_names, token_converters, strict=True)),
        list(zip(user_names, user_converters, strict=True)),
        len(token_names),
    )


def _converted(values, described) -> list:
    out = []
    for value, (_, converters) in zip(values, described, strict=True):
        for converter, col in converters:
            value = converter(value, col, connection)
        out.append(value)
    return out


def token_with_access(digest: str) -> ApiToken | None:
    """The token whose secret hashes to ``digest``, with its user, whose roles, memberships and
    grants (:func:`accounts.access.user_access`) come with it; None if no token has that hash."""
    statement = _statement()
    if statement is None:
        return ApiToken.objects.select_related("user").filter(secret_hash=digest).first()
    sql, token_described, user_described, split = statement
    with connection.cursor() as cursor:
        cursor.execute(sql, [digest])
        row = cursor.fetchone()
    if row is None:
        return None
    db = connection.alias
    token = ApiToken.from_db(
        db, [name for name, _ in token_described], _converted(row[:split], token_described)
    )
    user = User.from_db(
        db,
        [name for name, _ in user_described],
        _converted(row[split:-1], user_described),
    )
    token.user = user
    user_access(user, [tuple(r) for r in json.loads(row[-1] or "[]")])
    return token
