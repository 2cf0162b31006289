from __future__ import annotations

from rest_framework.pagination import PageNumberPagination, _positive_int

from core.errors import InvalidInput


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
