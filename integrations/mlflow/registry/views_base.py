"""What the registry's MLflow views share: reading a version number, a list field, tags and
search parameters the way MLflow's server reads them, and paging a search."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.db.models import QuerySet

from integrations.mlflow.errors import invalid
from integrations.mlflow.registry.search_filter import (
    FilterError,
    order_parse,
    page_token_make,
    page_token_read,
)
from integrations.mlflow.views import MlflowView

MAX_RESULTS_LIMIT = 1000


class RegistryView(MlflowView):
    """An MLflow registry endpoint."""

    def name(self, request) -> str:
        return self.text(request, "name", required=True, max_length=256)

    def version_number(self, request) -> int:
        text = self.text(request, "version", required=True, max_length=20)
        if not text.isdigit() or int(text) < 1:
            raise invalid(f"Invalid value for parameter 'version': '{text}' is not a version.")
        return int(text)

    def text_list(self, request, name: str, *, limit: int = 20) -> list[str]:
        """A repeated field: every ``name=`` of a GET, a JSON list (or one string) otherwise."""
        value = self.params(request).get(name)
        if value is None:
            return []
        values = value if isinstance(value, list) else [value]
        if len(values) > limit or not all(isinstance(v, str) for v in values):
            raise invalid(f"Parameter '{name}' must be a list of at most {limit} strings.")
        return values

    def optional_text(self, request, name: str, *, max_length: int = 100_000) -> str | None:
        """A field whose absence means "leave it" (``None``) and whose empty string clears."""
        if name not in self.params(request):
            return None
        return self.text(request, name, max_length=max_length)

    def tags(self, request) -> dict[str, str]:
        """``tags: [{"key", "value"}]`` of a create request."""
        value = self.params(request).get("tags") or []
        if not isinstance(value, list):
            raise invalid("Parameter 'tags' must be a list of {key, value} objects.")
        tags = {}
        for tag in value:
            if not isinstance(tag, dict) or not isinstance(tag.get("key"), str):
                raise invalid("Each tag is an object with a string 'key' and 'value'.")
            tag_value = tag.get("value", "")
            if not isinstance(tag_value, str):
                raise invalid(f"The value of tag '{tag['key']}' must be a string.")
            tags[tag["key"]] = tag_value
        return tags

    def search_page(
        self,
        request,
        rows: QuerySet,
        *,
        where: Callable[[str], object],
        order_fields: dict[str, str],
        tiebreak: Sequence[str],
        default_max: int,
    ) -> tuple[list, str]:
        """One page of ``rows`` for the request's filter, order and page token, and the token
        of the next page ("" after the last)."""
        text = self.text(request, "filter", max_length=4000)
        order = self.text_list(request, "order_by")
        max_results = self.integer(request, "max_results", default=default_max)
        if max_results is None or max_results < 1:
            raise invalid("Invalid value for parameter 'max_results': it must be at least 1.")
        # MLflow's client asks for up to 10,000 versions by default: clamp, don't refuse, and
        # let the page token carry on.
        size = min(max_results, MAX_RESULTS_LIMIT)
        query = (text, tuple(order))
        try:
            offset = page_token_read(self.text(request, "page_token", max_length=2000), query)
            rows = rows.filter(where(text)).order_by(*order_parse(order, order_fields, tiebreak))
        except FilterError as exc:
            raise invalid(str(exc)) from exc
        page = list(rows[offset : offset + size + 1])
        following = page_token_make(offset + size, query) if len(page) > size else ""
        return page[:size], following
