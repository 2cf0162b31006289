"""Request guards that apply before any view runs."""

from __future__ import annotations

import uuid

from auditlog.cid import correlation_id
from auditlog.context import set_extra_data
from auditlog.middleware import AuditlogMiddleware
from django.conf import settings
from django.shortcuts import render

from core.api.error_bodies import api_error_response
from core.net import client_ip, request_from_trusted_proxy

# The response header that tells a client the id its request was recorded under.
REQUEST_ID_HEADER = "X-Request-ID"


class RejectNulBytesMiddleware:
    """PostgreSQL cannot store or compare text containing NUL, and no real name or search does.
    A request that carries one in its path or query string is refused with a 400 up front,
    instead of reaching the database as a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            message = "The address contains a NUL character."
            if request.path.startswith("/api/"):
                return api_error_response(request, 400, message, "invalid")
            return render(request, "400.html", {"message": message}, status=400)
        return self.get_response(request)


class StewardAuditlogMiddleware(AuditlogMiddleware):
    """auditlog's middleware, but the remote address it records is :func:`core.net.client_ip`:
    the stock one believes ``X-Forwarded-For`` from anyone, so a client could write any address
    it liked into the audit trail. And the request id (auditlog's correlation id, the audit
    chain's ``request_id``, a decision's) is a fresh UUID made here for every request, never
    read from a client header (the stock one takes ``X-Correlation-ID`` as sent, so a client
    could make its requests look like someone else's); it is returned in ``X-Request-ID``."""

    def __call__(self, request):
        request_id = str(uuid.uuid4())
        token = correlation_id.set(request_id)
        try:
            with set_extra_data(context_data=self.get_extra_data(request)):
                response = self.get_response(request)
        finally:
            correlation_id.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response

    @staticmethod
    def _get_remote_addr(request):
        if settings.AUDITLOG_DISABLE_REMOTE_ADDR:
            return None
        return client_ip(request)

    @staticmethod
    def _get_remote_port(request) -> int | None:
        if not request_from_trusted_proxy(request):
            return None
        try:
            return int(request.headers.get("X-Forwarded-Port", ""))
        except ValueError:
            return None
