"""``{% inbox_count as n %}``: how many versions wait for the signed-in user, for the header.

A template tag rather than a context processor: only pages that draw the header pay for it,
and it needs no settings change. Counted once per request however often it is used."""

from __future__ import annotations

from django import template

from governance.selectors import inbox_count as count_waiting

register = template.Library()


@register.simple_tag(takes_context=True)
def inbox_count(context) -> int:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    if not hasattr(request, "_steward_inbox_count"):
        request._steward_inbox_count = count_waiting(user)
    return request._steward_inbox_count
