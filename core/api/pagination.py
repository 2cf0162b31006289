from __future__ import annotations

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import Count, QuerySet, Window
from rest_framework.pagination import PageNumberPagination, _positive_int

from core.errors import InvalidInput
from core.precompiled import PrecompiledRows


class StewardPagination(PageNumberPagination):
    """Page-number pagination; clients may ask for up to 200 rows a page."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request) -> int:
        """The page size asked for, capped at ``max_page_size``; one that is not a positive
        whole number is a 400 (DRF would silently use the default instead)."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            return _positive_int(raw, strict=True, cutoff=self.max_page_size)
        except ValueError:
            raise InvalidInput(
                f"page_size must be a whole number from 1 to {self.max_page_size}.",
                field_errors={"page_size": ["A whole number from 1 upwards."]},
            ) from None

    def get_page_number(self, request, paginator):
        """The page asked for; a ``page`` given empty is a 400, not silently the first page
        (a number out of range or not a number stays DRF's 404 "Invalid page")."""
        number = request.query_params.get(self.page_query_param)
        if number is not None and not number.strip():
            raise InvalidInput(
                "page must be a page number.", field_errors={"page": ["A page number."]}
            )
        return super().get_page_number(request, paginator)


def total_rows() -> Window:
    """The number of rows the query matches, on each of its rows."""
    return Window(Count("*"))


class TotalInPagePaginator(Paginator):
    """Reads a page and the number of rows in all with one query (``COUNT(*) OVER ()`` on the
    page's rows) instead of a count and then the page. Only for querysets that compute it
    the same way a count would (no DISTINCT, no GROUP BY, no UNION: the window would count
    the rows before DISTINCT removes some); others are counted as usual.

    A :class:`core.precompiled.PrecompiledRows` is paged by its own statement, which carries
    the same total (``TOTAL``) on each row.
    A page past the end is empty and so has no row to carry the total: it is the same "no
    such page" as before, and only the first page may be empty (an empty list)."""

    TOTAL = "paginator_total_rows"

    def page(self, number):
        queryset = self.object_list
        precompiled = isinstance(queryset, PrecompiledRows)
        if not (precompiled or self._counted_in_page(queryset)):
            return super().page(number)
        number = self._number(number)
        bottom = (number - 1) * self.per_page
        if precompiled:  # its statement annotates the total itself (TOTAL)
            rows = queryset.page_rows(bottom, self.per_page)
        else:
            rows = list(
                queryset.annotate(**{self.TOTAL: total_rows()})[bottom : bottom + self.per_page]
            )
        if rows:
            self.count = getattr(rows[0], self.TOTAL)
        elif number == 1 and self.allow_empty_first_page:
            self.count = 0
        else:
            raise EmptyPage(self.error_messages["no_results"])
        return self._get_page(rows, number, self)

    def _counted_in_page(self, queryset) -> bool:
        if not isinstance(queryset, QuerySet) or self.orphans:
            return False
        query = queryset.query
        return not (query.distinct or query.combinator or query.group_by is not None)

    def _number(self, number) -> int:
        """Paginator.validate_number without the count: a whole number from 1."""
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number


class TotalInPagePagination(StewardPagination):
    """:class:`StewardPagination` reading the total with the page (``TotalInPagePaginator``).
    For lists whose page is a costly query over a cheap set of matches: the window reads every
    match (as a count would), but PostgreSQL evaluates the select list's subqueries for the
    page's rows only (they hang on the WindowAgg node, under the LIMIT)."""

    django_paginator_class = TotalInPagePaginator
