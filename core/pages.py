"""How every browser page answers a domain error: one handler, one error page.

A ``StewardError`` that a view does not handle itself (an unknown or invisible name, a bad query
parameter, a refused right) becomes ``error.html`` with the error's own status, so bad input is a
400, 403 or 404 page and never a 500. Views that show a refused form again beside its message
catch the error themselves; this is for everything else. The apps' page decorators are built
from :func:`page_view` and :func:`form_view`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST, require_safe

from core.errors import StewardError

ERROR_TEMPLATE = "error.html"

View = Callable[..., HttpResponse]


def error_page(request: HttpRequest, error: StewardError) -> HttpResponse:
    """The error page of ``error``, with its status code."""
    return render(request, ERROR_TEMPLATE, {"error": error}, status=error.status_code)


def errors_as_pages(view: View) -> View:
    """``view``, with a domain error it raises answered by :func:`error_page`."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except StewardError as exc:
            return error_page(request, exc)

    return wrapper


def page_view(view: View) -> View:
    """A page: login required, GET/HEAD only, domain errors as an error page."""
    return login_required(require_safe(errors_as_pages(view)))


def form_view(view: View) -> View:
    """A form's POST: login required, POST only, and a domain error raised before the form's
    page could be shown again (an unknown or invisible object) as an error page."""
    return login_required(require_POST(errors_as_pages(view)))
