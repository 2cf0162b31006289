"""OpenAPI descriptions of Steward's own authentication classes (imported in CoreConfig.ready)."""

from __future__ import annotations

from drf_spectacular.authentication import BasicScheme, SessionScheme


class AuditedSessionScheme(SessionScheme):
    target_class = "core.audit.AuditedSessionAuthentication"


class AuditedBasicScheme(BasicScheme):
    target_class = "core.audit.AuditedBasicAuthentication"
