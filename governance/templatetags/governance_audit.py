"""``{% can_read_audit_trail as show_audit %}``: whether the signed-in user may read the audit
trail, for the header's "Audit" link. A template tag, like ``inbox_count``: only pages that draw
the header pay for it. Asked once per request however often it is used."""

from __future__ import annotations

from django import template

from governance.trail import trail_visible_to

register = template.Library()


@register.simple_tag(takes_context=True)
def can_read_audit_trail(context) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    if not hasattr(request, "_steward_can_read_audit"):
        request._steward_can_read_audit = trail_visible_to(user)
    return request._steward_can_read_audit
