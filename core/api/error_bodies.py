"""The JSON error a request under ``/api/`` gets when it is refused before any view runs (a NUL in
the address, a body the API cannot read, an unreachable database, a server error).

Steward's API answers ``{"message", "code", "errors"}``. A protocol served under its own prefix
(MLflow's ``/api/2.0/mlflow/``) promises its clients another body; it registers a formatter for
its prefix, so even these early refusals reach its clients in the shape they read."""

from __future__ import annotations

from collections.abc import Callable

from django.http import JsonResponse

ErrorBody = Callable[[int, str, str], dict]

_formats: list[tuple[str, ErrorBody]] = []


def api_error_format_register(prefix: str, body: ErrorBody) -> None:
    """Answer early refusals of paths under ``prefix`` with ``body(status, message, code)``."""
    _formats[:] = [(p, b) for p, b in _formats if p != prefix]
    _formats.append((prefix, body))


def api_error_response(
    request, status: int, message: str, code: str, errors: dict | None = None
) -> JsonResponse:
    """The early refusal of ``request`` in the body its path's clients read."""
    for prefix, body in _formats:
        if request.path.startswith(prefix):
            return JsonResponse(body(status, message, code), status=status)
    payload = {"message": message, "code": code}
    if errors is not None:
        payload["errors"] = errors
    return JsonResponse(payload, status=status)
