"""A database that cannot be reached answers 503 with ``Retry-After``, not 500.

PostgreSQL restarted, a connection killed by an administrator or a failover, a refused
connection, SQLite's "database is locked" after the busy timeout: the request could not be
served, but nothing is wrong with it, and it may be sent again. Every write runs in a
transaction, so an error in the middle of one leaves no partial write to repair; the client is
told to retry.

API clients (``/api/...``) get the usual error body
``{"message", "code": "database_unavailable", "errors": {}}``; browsers a short page.

Errors that point at a bug rather than an outage (IntegrityError, ProgrammingError, DataError,
SQLite's "no such table" and other schema errors, which sqlite3 also raises as
OperationalError) are not touched: they keep their 4xx handling or stay 500s that get fixed."""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse
from django.template import loader
from django.views import defaults

from core.api.error_bodies import api_error_response

logger = logging.getLogger("steward.database")

RETRY_AFTER_SECONDS = 30
MESSAGE = "The database is unavailable at the moment. Nothing was saved; try again shortly."
CODE = "database_unavailable"
# SQLite raises OperationalError for schema errors too; only these messages mean "busy" or
# "cannot reach the file", which waiting may cure.
SQLITE_TRANSIENT = ("database is locked", "database table is locked", "busy", "disk i/o error")
SQLITE_TRANSIENT += ("unable to open database file",)


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be reached or could not serve the query now
    (an outage), as opposed to a query that is wrong."""
    if isinstance(exc, InterfaceError):
        return True  # the connection is closed or unusable
    if not isinstance(exc, OperationalError):
        return False
    if type(exc.__cause__).__module__.split(".")[0] == "sqlite3":
        text = str(exc).lower()
        return any(marker in text for marker in SQLITE_TRANSIENT)
    # psycopg's OperationalError: connection refused or lost, backend terminated (57P01),
    # server shutting down, too many connections, lock or statement timeouts, serialization
    # failures and deadlocks. All transient; none a fault of the request.
    return True


def database_unavailable_response(request, exc: BaseException) -> HttpResponse:
    """The 503 for ``request``; logs ``exc`` and drops connections that the error left unusable,
    so that the next request on this thread connects afresh."""
    logger.error(
        "Database unavailable during %s %s: %s",
        request.method,
        request.path,
        exc,
        exc_info=exc,
    )
    _broken_connections_close()
    if request.path.startswith("/api/"):
        response = api_error_response(request, 503, MESSAGE, CODE, errors={})
    else:
        # Rendered without the request: context processors (the user, messages) would query
        # the database that just failed.
        html = loader.get_template("503.html").render({"message": MESSAGE})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _broken_connections_close() -> None:
    """What Django does at the end of every request (``close_old_connections``), done at once:
    a connection whose error left it unusable is closed. One still inside a transaction (tests,
    ATOMIC_REQUESTS) is left to the transaction's end, which drops it if it is broken."""
    for connection in connections.all(initialized_only=True):
        if connection.in_atomic_block or not connection.errors_occurred:
            continue
        try:
            connection.close_if_unusable_or_obsolete()
        except Exception:  # noqa: BLE001 - closing a dead connection must not raise a 500
            logger.debug("closing connection %s failed", connection.alias, exc_info=True)


class DatabaseUnavailableMiddleware:
    """Turns an unreachable database into a 503, wherever the request met it: when the session
    and user are loaded (forced here, so that the failure is met here and not in a later
    middleware, whose error Django would turn into a 500 before this one could see it), or in
    the view (``process_exception``; DRF re-raises what its exception handler leaves alone).

    Place it right after ``AuthenticationMiddleware``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None:
            try:
                user.is_authenticated  # noqa: B018 - loads the session and the user now
            except (OperationalError, InterfaceError) as exc:
                if not is_database_unavailable(exc):
                    raise
                return database_unavailable_response(request, exc)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_database_unavailable(exception):
            return database_unavailable_response(request, exception)
        return None


def server_error(request) -> HttpResponse:
    """``handler500``. Django calls it while handling the uncaught exception, so
    ``sys.exc_info()`` names it: an unreachable database met where the middleware cannot see it
    (the session saved by SessionMiddleware on the way out, an outer middleware) is still a 503.
    Anything else is the 500 it is: JSON under /api/, the plain page elsewhere."""
    exc = sys.exc_info()[1]
    if exc is not None and is_database_unavailable(exc):
        return database_unavailable_response(request, exc)
    if request.path.startswith("/api/"):
        return api_error_response(request, 500, "Server error: it has been logged.", "server_error")
    return defaults.server_error(request)
