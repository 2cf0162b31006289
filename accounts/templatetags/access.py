"""``{% may "audit" as show_audit %}``, ``{% may "change" model as may_edit %}``: what
``accounts.access.may`` answers for the signed-in user, for pages that show a link or a button
only to who may use it (the header's "Audit" link). The roles are read once per request
(cached on the user), however often a page asks."""

from __future__ import annotations

from django import template

from accounts.access import may as user_may

register = template.Library()


@register.simple_tag(takes_context=True)
def may(context, verb: str, obj=None) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    return user_may(user, verb, obj)
