"""One error format for the whole API:
``{"message": ..., "code": ..., "errors": {field: [...]}}``."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from core.errors import StewardError


def _flatten_detail(detail) -> str:
    if isinstance(detail, list) and detail:
        return _flatten_detail(detail[0])
    if isinstance(detail, dict) and detail:
        return _flatten_detail(next(iter(detail.values())))
    return str(detail)


def steward_exception_handler(exc, context):
    if isinstance(exc, StewardError):
        body = {"message": exc.message, "code": exc.default_code}
        if exc.field_errors:
            body["errors"] = exc.field_errors
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"message": "The request body is too large.", "code": "payload_too_large"},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, SuspiciousOperation):
        # Django's guards while parsing a body (too many fields, a bad multipart header...):
        # the client's error, in the API's format rather than Django's HTML 400 page.
        return Response(
            {"message": f"The request was refused: {exc}", "code": "bad_request"},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = {
            "message": "Invalid input: " + _flatten_detail(errors),
            "code": "invalid",
            "errors": errors,
        }
        response.status_code = status.HTTP_400_BAD_REQUEST
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = {"message": str(detail) or str(exc), "code": code}
    return response


def page_not_found(request, exception):
    """``handler404``: a path under /api/ that no route matches (``/versions/abc/``, an unknown
    resource) answers the API's JSON error body like any other 404; pages keep the HTML one."""
    if request.path.startswith("/api/"):
        return JsonResponse({"message": "Not found.", "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)
