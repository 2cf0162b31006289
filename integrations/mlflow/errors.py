"""MLflow's error format: ``{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "..."}`` with the
HTTP status MLflow's own server gives that code. The client reads ``error_code`` to decide what
to do (``register_model`` tolerates only RESOURCE_ALREADY_EXISTS on create; an unknown endpoint
must say ENDPOINT_NOT_FOUND for the GET fallback of ``get-latest-versions``), so every refusal on
an MLflow route answers this body, never Steward's or an HTML page."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response

from core.api.error_bodies import api_error_format_register
from core.api.exceptions import steward_exception_handler
from core.errors import Conflict, Forbidden, NotFound, PayloadTooLarge, StewardError


class ErrorCode:
    INTERNAL_ERROR = "INTERNAL_ERROR"
    TEMPORARILY_UNAVAILABLE = "TEMPORARILY_UNAVAILABLE"
    RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
    RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
    INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    RESOURCE_CONFLICT = "RESOURCE_CONFLICT"
    ENDPOINT_NOT_FOUND = "ENDPOINT_NOT_FOUND"
    REQUEST_LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"
    BAD_REQUEST = "BAD_REQUEST"


# MLflow's own server's statuses for these codes (mlflow.exceptions.ERROR_CODE_TO_HTTP_STATUS).
HTTP_STATUS = {
    ErrorCode.RESOURCE_DOES_NOT_EXIST: 404,
    ErrorCode.RESOURCE_ALREADY_EXISTS: 400,
    ErrorCode.INVALID_PARAMETER_VALUE: 400,
    ErrorCode.PERMISSION_DENIED: 403,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.RESOURCE_CONFLICT: 409,
    ErrorCode.ENDPOINT_NOT_FOUND: 404,
    ErrorCode.REQUEST_LIMIT_EXCEEDED: 429,
    ErrorCode.BAD_REQUEST: 400,
}


class MlflowError(Exception):
    """A refusal in MLflow's terms, raised by the MLflow views (services raise Steward's own
    errors, which ``mlflow_exception_handler`` translates)."""

    def __init__(self, error_code: str, message: str, status: int | None = None):
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self.status = status or HTTP_STATUS.get(error_code, 400)


def does_not_exist(what: str) -> MlflowError:
    return MlflowError(ErrorCode.RESOURCE_DOES_NOT_EXIST, what)


def invalid(message: str) -> MlflowError:
    return MlflowError(ErrorCode.INVALID_PARAMETER_VALUE, message)


def error_body(error_code: str, message: str) -> dict:
    return {"error_code": error_code, "message": message}


def _code_of_steward_error(exc: StewardError) -> str:
    if isinstance(exc, NotFound):
        return ErrorCode.RESOURCE_DOES_NOT_EXIST
    if isinstance(exc, Forbidden):
        return ErrorCode.PERMISSION_DENIED
    if isinstance(exc, Conflict):
        return ErrorCode.RESOURCE_CONFLICT
    return ErrorCode.INVALID_PARAMETER_VALUE


def _steward_message(exc: StewardError) -> str:
    if not exc.field_errors:
        return exc.message
    details = "; ".join(
        f"{field}: {' '.join(str(m) for m in messages)}"
        for field, messages in exc.field_errors.items()
    )
    return f"{exc.message} ({details})"


def mlflow_exception_handler(exc, context):
    """DRF's exception handler for the MLflow views: every error in MLflow's body."""
    if isinstance(exc, MlflowError):
        return Response(error_body(exc.error_code, exc.message), status=exc.status)
    if isinstance(exc, StewardError):
        status = exc.status_code
        code = _code_of_steward_error(exc)
        if isinstance(exc, PayloadTooLarge):
            code = ErrorCode.INVALID_PARAMETER_VALUE
        return Response(error_body(code, _steward_message(exc)), status=status)
    if isinstance(exc, Http404):
        return Response(
            error_body(ErrorCode.RESOURCE_DOES_NOT_EXIST, str(exc) or "Not found."), 404
        )
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        response = Response(error_body(ErrorCode.UNAUTHENTICATED, str(exc.detail)), status=401)
        authenticate_header = getattr(context.get("view"), "get_authenticate_header", None)
        request = context.get("request")
        if authenticate_header and request is not None:
            header = authenticate_header(request)
            if header:
                response["WWW-Authenticate"] = header
        return response
    if isinstance(exc, (exceptions.PermissionDenied, DjangoPermissionDenied)):
        message = str(getattr(exc, "detail", "") or exc) or "Permission denied."
        return Response(error_body(ErrorCode.PERMISSION_DENIED, message), status=403)
    if isinstance(exc, exceptions.Throttled):
        response = Response(error_body(ErrorCode.REQUEST_LIMIT_EXCEEDED, str(exc.detail)), 429)
        if exc.wait:
            response["Retry-After"] = str(int(exc.wait))
        return response
    if isinstance(
        exc,
        (exceptions.APIException, DjangoValidationError, RequestDataTooBig, SuspiciousOperation),
    ):
        # Steward's own handler knows how to word these (validation details, body limits);
        # keep its status and message, in MLflow's body.
        response = steward_exception_handler(exc, context)
        if response is not None:
            message = response.data.get("message", "") if isinstance(response.data, dict) else ""
            code = (
                ErrorCode.RESOURCE_DOES_NOT_EXIST
                if response.status_code == 404
                else ErrorCode.INVALID_PARAMETER_VALUE
            )
            return Response(error_body(code, message or str(exc)), status=response.status_code)
    return None


def endpoint_not_found(request, *args, **kwargs):
    """Any path under MLflow's prefixes that Steward does not serve: MLflow's ENDPOINT_NOT_FOUND
    (the client falls back, or says clearly what is missing)."""
    return JsonResponse(
        error_body(
            ErrorCode.ENDPOINT_NOT_FOUND,
            f"Steward does not serve {request.method} {request.path[:200]}.",
        ),
        status=404,
    )


def server_info(request, *args, **kwargs):
    """``GET /api/3.0/mlflow/server-info``: what the MLflow client asks about a server before it
    signs in (MLflow's own server answers it without login). Nothing here names a person, a
    team or a record: the store kind, that artifacts are served, and no workspaces."""
    if request.method != "GET":
        return endpoint_not_found(request)
    return JsonResponse(
        {
            "store_type": "Steward",
            "artifact_serving_enabled": True,
            "workspaces_enabled": False,
            "multipart_uploads_enabled": False,
            "multipart_downloads_enabled": False,
        }
    )


# Early refusals (before any view: a NUL in the address, an unreadable body, the database down,
# a server error) by status, in MLflow's codes.
_EARLY_CODES = {
    401: ErrorCode.UNAUTHENTICATED,
    403: ErrorCode.PERMISSION_DENIED,
    404: ErrorCode.ENDPOINT_NOT_FOUND,
    429: ErrorCode.REQUEST_LIMIT_EXCEEDED,
    500: ErrorCode.INTERNAL_ERROR,
    503: ErrorCode.TEMPORARILY_UNAVAILABLE,
}


def early_error_body(status: int, message: str, code: str) -> dict:
    """``core.api.error_bodies`` formatter for MLflow's prefixes."""
    return error_body(_EARLY_CODES.get(status, ErrorCode.INVALID_PARAMETER_VALUE), message)


def mlflow_error_format_register() -> None:
    for prefix in ("/api/2.0/mlflow", "/api/3.0/mlflow"):
        api_error_format_register(prefix, early_error_body)
