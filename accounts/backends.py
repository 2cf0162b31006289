"""An authentication backend that checks no password: it refuses a throttled account before
the backends after it (local passwords, the directory) get to try one. It must come first in
``AUTHENTICATION_BACKENDS``. The sign-in page and Basic auth check the throttle themselves, with
a clearer message; this guard covers every other door (the admin's and the browsable API's
sign-in pages)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from accounts.services.login_audit import login_throttled
from core.net import client_ip


class LoginThrottleBackend:
    """Raises ``PermissionDenied`` for a username throttled from the request's address
    (:mod:`accounts.services.login_throttle`), which makes Django's
    ``authenticate()`` stop and send ``user_login_failed`` (recorded as throttled)."""

    def authenticate(self, request, username=None, **credentials):
        ip = client_ip(request) if getattr(request, "META", None) else None
        if username and login_throttled(username, ip):
            raise PermissionDenied
        # No get_user(): this backend never signs anyone in, and without the method Django's
        # test client does not pick it for force_login() either.
        return None
