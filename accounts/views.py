"""Browser pages of accounts: a user's API tokens, and the login audit for auditors and
administrators. Views parse, call one service or selector, and render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import may
from accounts.choices import Verb
from accounts.filters import LoginEventFilter
from accounts.forms import ApiTokenForm
from accounts.login_audit_selectors import login_event_list
from accounts.services.tokens import token_create, token_revoke
from core.errors import Forbidden, StewardError
from core.filters import page_filterset
from core.pages import page_view

LOGIN_EVENTS_PAGE_SIZE = 50


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """The user's tokens and a form for a new one. After creating, the same response shows
    the secret, once: it is in no session, message or log, so a reload cannot show it again."""
    form = ApiTokenForm(request.POST or None)
    created = secret = None
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            created, secret = token_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_at=form.expires_at,
            )
        except StewardError as exc:
            for field, errors in exc.field_errors.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            form = ApiTokenForm()
    elif request.method == "POST":
        status = 400
    response = render(
        request,
        "accounts/tokens.html",
        {
            "form": form,
            "tokens": request.user.api_tokens.order_by("revoked_at", "-created_at"),
            "created": created,
            "secret": secret,
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, prefix: str) -> HttpResponse:
    """Revoke one of the user's own tokens (anyone else's is a 404 here). The table's button
    asks first: a POST without ``confirm=yes`` answers a confirmation page whose button posts
    it, so a stray click revokes nothing and no script is needed."""
    token = get_object_or_404(request.user.api_tokens, prefix=prefix)
    if request.POST.get("confirm") != "yes":
        return render(request, "accounts/token_revoke_confirm.html", {"token": token})
    token_revoke(actor=request.user, token=token)
    messages.success(request, f"Token “{token.name}” ({token.prefix}…) is revoked.")
    return redirect("account-tokens")


@page_view
def login_event_list_view(request: HttpRequest) -> HttpResponse:
    """Every sign-in attempt, newest first, filtered; for auditors and administrators."""
    if not may(request.user, Verb.READ_AUDIT):
        raise Forbidden("Only auditors and administrators may read the login audit.")
    filters = page_filterset(LoginEventFilter, request, login_event_list())
    page = Paginator(filters.qs, LOGIN_EVENTS_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/login_events.html",
        {
            "page": page,
            "filters": filters,
            "query_string": query.urlencode(),
        },
    )
