"""The API refuses a request body it would not know how to read, or could not afford to.

Django enforces ``DATA_UPLOAD_MAX_MEMORY_SIZE`` only when it reads the body itself (``request.body``
and form parsing); DRF's JSON parser reads the stream directly, so without this guard a JSON (or
CSV) body of any size was read into memory and parsed. Streamed uploads (multipart files and
``application/octet-stream`` artifacts) are exempt: they go to disk chunk by chunk and have their
own limit, ``ARTIFACT_MAX_BYTES``. A body without a Content-Type was silently read as empty data
by DRF; it is a 415 here, so a client that forgot the header learns why."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse

from core.api.error_bodies import api_error_response

STREAMED_TYPES = ("multipart/form-data", "application/octet-stream")


def _declared_length(request) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return -1


class ApiBodyGuardMiddleware:
    """For ``/api/`` requests: 400 for a malformed Content-Length, 415 for a body without a
    Content-Type, 413 for an in-memory body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            refusal = self.refusal(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    @staticmethod
    def refusal(request) -> JsonResponse | None:
        length = _declared_length(request)
        if length < 0:
            return api_error_response(
                request, 400, "The Content-Length header is not a number.", "invalid"
            )
        if length == 0:
            return None
        content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if not content_type:
            return api_error_response(
                request,
                415,
                "The request has a body but no Content-Type: send "
                "application/json (or multipart/form-data for uploads).",
                "unsupported_media_type",
            )
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and content_type not in STREAMED_TYPES and length > limit:
            return api_error_response(
                request,
                413,
                f"The request body is larger than the limit of {limit} bytes.",
                "payload_too_large",
            )
        return None
