"""Reads of one fixed shape compiled to SQL once per database connection, not per request.

A GET of one version or one model is a single query, but building its SQL from the ORM (the
select_related tree, the deferred columns, the subqueries of the answer) was about 40% of the
request's CPU, every time, for the same text. :class:`PrecompiledGet` compiles its queryset
once, with a stand-in value for each lookup, keeps the SQL and the compiler that knows how to
turn a row into model instances, and then only binds the values of each call.

The stand-ins are distinct values no real parameter carries; each must appear exactly once
among the compiled parameters, else the shape is refused when it is first compiled (it would
bind a value in the wrong place). The instances come out as ``QuerySet.get`` would make them:
the same columns loaded or deferred, the same related objects, the same annotations.

Only what a queryset filtered by equality on its lookups reads belongs here; permission
filters that vary per user do not (the callers ask :func:`accounts.access.may` of the row).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models
from django.db.models.query import get_related_populators
from django.db.models.sql.compiler import SQLCompiler


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: dict[str, int]  # lookup -> index in params
    bindable: dict[str, Callable[[Any], bool]]  # lookup -> whether a value fits its column
    compiler: SQLCompiler


class _Precompiled:
    """The compiled statements of one read, per connection and shape, and the binding of a
    call's values into them."""

    # Shapes kept per connection (pages: one per page size and offset asked), the oldest
    # dropped first beyond this.
    SHAPES = 32

    def __init__(self, build: Callable[[], models.QuerySet], **lookups: type):
        for path, kind in lookups.items():
            if kind not in (str, int):
                raise ImproperlyConfigured(f"{path}: only str and int lookups are precompiled")
        self._build = build
        self._lookups = lookups
        # Keyed by the connection wrapper: each thread has its own, and a compiler is bound
        # to the one it was made with.
        self._compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def _rows(self, using: str, shape: Any, values: dict[str, Any], size: int):
        """``(compiler, rows)`` of the statement of ``shape`` with ``values`` bound, at most
        ``size`` rows; None when a value cannot match any row."""
        if values.keys() != self._lookups.keys():
            raise TypeError(f"expected the lookups {sorted(self._lookups)}, got {sorted(values)}")
        connection = connections[using]
        shapes = self._compiled.get(connection)
        if shapes is None:
            with self._lock:
                shapes = self._compiled.setdefault(connection, {})
        compiled = shapes.get(shape)
        if compiled is None:
            compiled = self._compile(using, shape)
            with self._lock:
                while len(shapes) >= self.SHAPES:
                    shapes.pop(next(iter(shapes)))
                shapes[shape] = compiled
        params = list(compiled.params)
        for path, index in compiled.slots.items():
            try:
                value = self._lookups[path](values[path])
            except ValueError:  # "12a" for a number: no row has it
                return None
            if not compiled.bindable[path](value):
                return None  # no row can hold it (the ORM's lookup would match nothing too)
            params[index] = value
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchmany(size)
        return compiled.compiler, rows

    def _shaped(self, queryset: models.QuerySet, shape: Any) -> models.QuerySet:
        return queryset

    def _compile(self, using: str, shape: Any) -> _Compiled:
        connection = connections[using]
        base = self._build()
        fields = {path: _field_at(base.model, path) for path in self._lookups}
        stand_ins = {
            path: _stand_in(kind, fields[path], connection, n)
            for n, (path, kind) in enumerate(self._lookups.items())
        }
        queryset = self._shaped(base.filter(**stand_ins), shape)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        slots = {}
        for path, stand_in in stand_ins.items():
            found = [i for i, param in enumerate(params) if param == stand_in]
            if len(found) != 1:
                raise ImproperlyConfigured(
                    f"{path}: its value appears {len(found)} times in the compiled query"
                )
            slots[path] = found[0]
        bindable = {
            path: _fits(kind, fields[path], connection) for path, kind in self._lookups.items()
        }
        return _Compiled(sql, tuple(params), slots, bindable, compiler)


class PrecompiledGet(_Precompiled):
    """``PrecompiledGet(build, name=str, version=int)``: ``get(name="m", version=3)`` is
    ``build().get(name="m", version=3)`` (or None when no row matches), with the SQL compiled
    once per connection. ``build`` returns the queryset, unfiltered by the lookups; each lookup
    is an ORM path compared for equality, typed ``str`` or ``int``. The lookups must name at
    most one row (a unique key)."""

    def get(self, using: str = "default", **values: Any) -> models.Model | None:
        found = self._rows(using, None, values, 2)
        if not found or not found[1]:
            return None
        compiler, rows = found
        if len(rows) > 1:
            raise ImproperlyConfigured(f"{sorted(self._lookups)} name more than one row")
        return next(_instances(compiler, rows, using))


class PrecompiledPage(_Precompiled):
    """``PrecompiledPage(build, model_id=int)``: ``rows(offset, limit, model_id=7)`` is
    ``list(build().filter(model_id=7)[offset:offset + limit])``, in ``build``'s order, with the
    SQL compiled once per connection and page shape (the limits are part of the SQL). For the
    pages of a list whose filters and order are fixed; ``build`` may annotate a window (the
    total, see ``core.api.pagination.TotalInPagePaginator``)."""

    def rows(self, offset: int, limit: int, using: str = "default", **values: Any) -> list:
        found = self._rows(using, (offset, limit), values, limit)
        if not found:
            return []
        compiler, rows = found
        return list(_instances(compiler, rows, using))

    def _shaped(self, queryset: models.QuerySet, shape: Any) -> models.QuerySet:
        offset, limit = shape
        return queryset[offset : offset + limit]


@dataclass(frozen=True)
class PrecompiledRows:
    """The rows of a :class:`PrecompiledPage` for these values, as a paginator asks for them."""

    reader: PrecompiledPage
    values: dict[str, Any]

    def page_rows(self, offset: int, limit: int) -> list:
        return self.reader.rows(offset, limit, **self.values)


def _field_at(model: type[models.Model], path: str) -> models.Field:
    *steps, last = path.split("__")
    for step in steps:
        model = model._meta.get_field(step).related_model
    return model._meta.get_field(last)


def _stand_in(kind: type, field: models.Field, connection, n: int):
    """A value for lookup number ``n`` that no constant of the query carries: text no name
    holds, or a number near the top of the column's range (inside it: the ORM compiles a lookup
    outside the range to "no rows", without the parameter)."""
    if kind is str:
        return f"\x1fprecompiled-stand-in-{n}"
    _, high = connection.ops.integer_field_range(_column_field(field).get_internal_type())
    return (high if high is not None else 2**31 - 1) - 1000 - n


def _column_field(field: models.Field) -> models.Field:
    return field.target_field if field.is_relation else field


def _fits(kind: type, field: models.Field, connection) -> Callable[[Any], bool]:
    """Whether a value can be bound to ``field``'s column: an integer within its range, text
    without NUL (PostgreSQL refuses both with an error instead of matching nothing)."""
    if kind is str:
        return lambda value: "\x00" not in value
    low, high = connection.ops.integer_field_range(_column_field(field).get_internal_type())
    return lambda value: (low is None or value >= low) and (high is None or value <= high)


def _instances(compiler: SQLCompiler, rows: list, using: str):
    """Model instances of the rows, as ``ModelIterable`` builds them (same columns, related
    objects and annotations; the querysets here have no known related objects)."""
    select, klass_info = compiler.select, compiler.klass_info
    select_fields = klass_info["select_fields"]
    start, end = select_fields[0], select_fields[-1] + 1
    init_list = [column[0].target.attname for column in select[start:end]]
    populators = get_related_populators(klass_info, select, using)
    annotations = (compiler.annotation_col_map or {}).items()
    for row in compiler.results_iter([rows]):
        obj = klass_info["model"].from_db(using, init_list, row[start:end])
        for populator in populators:
            populator.populate(row, obj)
        for name, position in annotations:
            setattr(obj, name, row[position])
        yield obj
