"""What the API's lists and the pages' filter bars share: one django-filter FilterSet per list.

The API view names it as ``filterset_class``; the page binds the same class to ``request.GET``
with :func:`page_filterset` and renders its form with ``partials/filter_bar.html``. So both faces
read the same parameter names, apply the same rules and refuse the same bad values (the API with
a 400 body, the page with a 400 page that lists the form's errors)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import django_filters
from django import forms
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.request import Request

from core.dates import filter_moment
from core.errors import InvalidInput

MAX_SEARCH_LENGTH = 200
# PostgreSQL refuses NUL in text; other control characters are never part of a real search.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")

no_control_characters = RegexValidator(
    _CONTROL_CHARACTERS, "Control characters are not allowed.", code="control", inverse_match=True
)


class TextFilter(django_filters.CharFilter):
    """A free-text value from the query string: stripped, at most ``MAX_SEARCH_LENGTH``
    characters, no control characters (a 400, never a database error)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("validators", [])
        kwargs["validators"] = [
            MaxLengthValidator(MAX_SEARCH_LENGTH),
            no_control_characters,
            *kwargs["validators"],
        ]
        super().__init__(*args, **kwargs)


class MomentField(forms.Field):
    """A date (``2026-11-27``) or an ISO 8601 date-time (``core.dates.filter_moment``); a bare
    date read as the end of that day when ``end_of_day`` (an "until" includes the day)."""

    def __init__(self, *args: Any, end_of_day: bool = False, **kwargs: Any) -> None:
        self.end_of_day = end_of_day
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> Any:
        errors: dict[str, list[str]] = {}
        moment = filter_moment(value or "", "value", errors, end_of_day=self.end_of_day)
        if errors:
            raise forms.ValidationError(errors["value"][0], code="invalid")
        return moment


@extend_schema_field(OpenApiTypes.STR)  # a date or a date-time, not only a date-time
class MomentFilter(django_filters.Filter):
    """``since`` (at or after, ``gte``) or ``until`` (before, ``lt``; a bare date included)."""

    field_class = MomentField

    def __init__(self, *args: Any, end_of_day: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("lookup_expr", "lt" if end_of_day else "gte")
        super().__init__(*args, end_of_day=end_of_day, **kwargs)


class StrictBooleanField(forms.Field):
    """``true``/``false`` (or ``1``/``0``, any case); anything else is refused, not ignored."""

    def to_python(self, value: Any) -> bool | None:
        if isinstance(value, bool):  # a checkbox on a page: ticked or not
            return value
        text = str(value or "").strip().lower()
        if not text:
            return None
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise forms.ValidationError("Not a boolean: give true or false.", code="invalid")


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.Filter):
    field_class = StrictBooleanField


def search_box(placeholder: str) -> forms.Widget:
    """The widget of a list's ``search`` filter on its page."""
    return forms.SearchInput(attrs={"placeholder": placeholder, "data-testid": "search-input"})


def choice_error(what: str) -> dict[str, str]:
    """The refusal of a value outside a ChoiceFilter's choices, e.g. "Unknown risk tier 'x'."."""
    return {"invalid_choice": f"Unknown {what} '%(value)s'."}


class StewardFilterSet(django_filters.FilterSet):
    """A FilterSet that knows how a page shows it.

    ``page_fields``: the filters the page's filter bar shows, in order (the others are the API's
    only). ``page_widgets``: makers of the widgets the bar uses instead of the API's (a checkbox,
    say).
    :meth:`page_menus` gives the options of the filters a page shows as menus but that accept
    any value (an unknown team matches nothing rather than being refused)."""

    page_fields: tuple[str, ...] = ()
    page_widgets: dict[str, Callable[[], forms.Widget]] = {}

    def page_menus(self) -> dict[str, Iterable[tuple[str, str]]]:
        return {}

    @property
    def bar_fields(self) -> list[forms.BoundField]:
        """The form's fields the page's filter bar shows, in order."""
        return [self.form[name] for name in self.page_fields]

    @property
    def active(self) -> bool:
        """Whether any filter the bar shows was given a value."""
        data = self.form.cleaned_data if self.form.is_bound and self.is_valid() else {}
        return any(data.get(name) not in (None, "", [], False) for name in self.page_fields)


def query_renamed(params: QueryDict, renamed: dict[str, str]) -> QueryDict:
    """``params`` with each old page parameter name read as its FilterSet name (``q`` as
    ``search``), for bookmarks made before the pages and the API shared their names. A new
    name, when given, wins over the old one."""
    if not any(old in params for old in renamed):
        return params
    data = params.copy()
    for old, new in renamed.items():
        if old in data:
            values = data.pop(old)
            if new not in data:
                data.setlist(new, values)
    return data


def page_filterset(
    filterset_class: type[StewardFilterSet],
    request: HttpRequest,
    queryset: QuerySet,
    *,
    data: QueryDict | None = None,
) -> StewardFilterSet:
    """``filterset_class`` bound to the page's query string (or ``data``) with its page widgets
    and menus. Invalid input raises ``InvalidInput`` naming each refused field: the page answers
    400 with those errors, as the API does."""
    filterset = filterset_class(
        request.GET if data is None else data, queryset=queryset, request=request
    )
    fields = filterset.form.fields
    for name, widget in filterset.page_widgets.items():
        fields[name].widget = widget()
    for name, options in filterset.page_menus().items():
        attrs = fields[name].widget.attrs
        fields[name].widget = forms.Select(attrs=attrs, choices=[("", "Any"), *options])
    if not filterset.is_valid():
        errors = {name: list(messages) for name, messages in filterset.form.errors.items()}
        raise InvalidInput(next(iter(errors.values()))[0], field_errors=errors)
    return filterset


def api_filterset(
    filterset_class: type[StewardFilterSet], request: Request, queryset: QuerySet
) -> StewardFilterSet:
    """``filterset_class`` bound to an API request's query string, for a view that applies it
    itself (to several querysets, say) rather than through ``filterset_class``. Invalid input
    raises ``InvalidInput`` naming each refused field (a 400 whose ``errors`` name them), as
    :func:`page_filterset` does for a page."""
    filterset = filterset_class(request.query_params, queryset=queryset, request=request)
    if not filterset.is_valid():
        errors = {name: list(messages) for name, messages in filterset.form.errors.items()}
        field, messages = next(iter(errors.items()))
        raise InvalidInput(f"Invalid filter '{field}': {messages[0]}", field_errors=errors)
    return filterset
