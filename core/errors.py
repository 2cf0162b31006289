"""Domain errors that services raise. Each knows the HTTP status a client should see, so the API,
the pages and the commands can turn them into a clear message instead of a 500."""

from __future__ import annotations


class StewardError(Exception):
    """Base of every error a service raises on purpose."""

    status_code = 400
    default_code = "invalid"

    def __init__(self, message: str, *, field_errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class InvalidInput(StewardError):
    """The request itself is wrong (a missing or malformed value)."""


class NotFound(StewardError):
    """The named object does not exist, or the user may not know that it does."""

    status_code = 404
    default_code = "not_found"


class Conflict(StewardError):
    """The request is well formed but clashes with the current state (duplicate, wrong state)."""

    status_code = 409
    default_code = "conflict"


class PayloadTooLarge(StewardError):
    """An upload is bigger than the configured limit."""

    status_code = 413
    default_code = "payload_too_large"


class Forbidden(StewardError):
    """The user may see the object but not do this to it."""

    status_code = 403
    default_code = "permission_denied"
