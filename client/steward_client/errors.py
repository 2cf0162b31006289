"""What can go wrong, said clearly: Steward's own message and field errors for an answer it
refused, or what the client could not do (no server, a missing file, no configuration)."""

from __future__ import annotations

from typing import Any


class StewardError(Exception):
    """Base of every error the client raises on purpose. ``str()`` is the message a person
    reads; the CLI prints it and exits non-zero instead of showing a traceback."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigurationError(StewardError):
    """No server URL or token, or an unreadable configuration file."""


class ConnectionFailed(StewardError):
    """The server could not be reached (after the retries)."""


class LocalInputError(StewardError):
    """Something on this machine: a file that does not exist, a value that cannot be sent."""


class APIError(StewardError):
    """Steward answered with an error: its message, its code and its field errors."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str = "",
        errors: Any = None,
        method: str = "",
        url: str = "",
        request_id: str = "",
        body: Any = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.errors = errors or {}
        self.method = method
        self.url = url
        self.request_id = request_id
        self.body = body

    def __str__(self) -> str:
        lines = [f"{self.message} (HTTP {self.status}{', ' + self.code if self.code else ''})"]
        lines.extend(f"  {line}" for line in format_field_errors(self.errors))
        if self.request_id:
            lines.append(f"  request id: {self.request_id}")
        return "\n".join(lines)


class InvalidInput(APIError):
    """400 or 422: the request was wrong; ``errors`` names the fields."""


class AuthenticationFailed(APIError):
    """401: no credentials, or the token was refused (expired, revoked, mistyped)."""


class PermissionDenied(APIError):
    """403: you may not do this."""


class NotFound(APIError):
    """404: no such object, or one you may not see."""


class Conflict(APIError):
    """409: the request clashes with the current state (a workflow step not allowed now)."""


class ServerError(APIError):
    """5xx after the retries."""


_BY_STATUS = {
    400: InvalidInput,
    401: AuthenticationFailed,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    422: InvalidInput,
}


def api_error_class(status: int) -> type[APIError]:
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, APIError)


def format_field_errors(errors: Any, prefix: str = "") -> list[str]:
    """Steward's field errors (``{"field": ["..."]}``, nested for lists of objects, or a list of
    per-record errors) as one line per problem."""
    lines: list[str] = []
    if isinstance(errors, dict):
        for field, value in errors.items():
            name = f"{prefix}.{field}" if prefix else str(field)
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                lines.append(f"{name}: {' '.join(value)}")
            elif isinstance(value, str):
                lines.append(f"{name}: {value}")
            else:
                lines.extend(format_field_errors(value, name))
    elif isinstance(errors, list):
        for index, value in enumerate(errors[:20]):
            if isinstance(value, str):
                lines.append(f"{prefix}: {value}" if prefix else value)
            else:
                lines.extend(format_field_errors(value, f"{prefix}[{index}]"))
        if len(errors) > 20:
            lines.append(f"{prefix}: ... and {len(errors) - 20} more")
    elif errors:
        lines.append(f"{prefix}: {errors}" if prefix else str(errors))
    return lines
