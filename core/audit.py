"""Glue between authentication and django-auditlog.

auditlog's middleware captures ``request.user`` before DRF authenticates a request, so API calls
made with Basic auth (and later tokens) would be logged without an actor. The API's
authentication classes call :func:`audit_bind_actor` once they know who is calling, which puts
the real user into the context the middleware opened for this request (its remote address is
kept)."""

from __future__ import annotations

from auditlog.context import auditlog_value
from auditlog.registry import auditlog
from rest_framework.authentication import BasicAuthentication, SessionAuthentication


def audit_bind_actor(user) -> None:
    """Name ``user`` as the actor of the audit entries the current request writes."""
    if user is None or not user.is_authenticated:
        return
    try:
        context = auditlog_value.get()
    except LookupError:  # not inside a request (commands and tasks use set_actor)
        return
    context["actor"] = user


class _BindsAuditActor:
    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            audit_bind_actor(result[0])
        return result


class AuditedSessionAuthentication(_BindsAuditActor, SessionAuthentication):
    pass


class AuditedBasicAuthentication(_BindsAuditActor, BasicAuthentication):
    pass


def auditlog_register(model, *, exclude_fields=(), **options) -> None:
    """Register ``model`` with django-auditlog, tracking its own columns only.

    auditlog also walks reverse relations (other models' foreign keys to this one): on every
    save that costs a query per reverse one-to-one and records nothing of use (a reverse
    foreign key is written as "app.Model.None"). What points at a row is that other row's
    history, which auditlog records when that row changes."""
    reverse = [f.name for f in model._meta.get_fields() if f.auto_created and not f.concrete]
    auditlog.register(model, exclude_fields=[*exclude_fields, *reverse], **options)
