"""The tests' handle on the provider (test-only, loopback only): change a person's groups, and
switch on a fault in the next tokens it issues. POST JSON with the control secret header."""

from __future__ import annotations

import base64
import json
import os
import threading
import time

from django.contrib.auth.models import Group, User
from django.http import HttpResponseForbidden, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from jwcrypto import jwt

FAULTS = ("tamper", "audience", "expired", "nonce")
_state = {"fault": ""}
_lock = threading.Lock()


@csrf_exempt
def control(request):
    if request.method != "POST" or request.headers.get("X-Control") != os.environ.get(
        "SSO_PROVIDER_CONTROL", "-"
    ):
        return HttpResponseForbidden("no")
    body = json.loads(request.body or b"{}")
    if "fault" in body:
        if body["fault"] not in ("", *FAULTS):
            return JsonResponse({"error": "unknown fault"}, status=400)
        with _lock:
            _state["fault"] = body["fault"]
    if "groups" in body:
        user = User.objects.get(username=body["user"])
        user.groups.set([Group.objects.get_or_create(name=name)[0] for name in body["groups"]])
    return JsonResponse({"fault": _state["fault"]})


def fault_apply(serialized: str, key) -> str:
    """``serialized`` as issued, or spoilt by the fault that is on."""
    with _lock:
        fault = _state["fault"]
    if not fault:
        return serialized
    header, payload, signature = serialized.split(".")
    claims = json.loads(_b64decode(payload))
    if fault == "tamper":
        # Change a claim and keep the signature: what an attacker in the middle would do.
        claims["preferred_username"] = "admin"
        claims["groups"] = ["steward-admins"]
        return ".".join([header, _b64encode(json.dumps(claims).encode()), signature])
    now = int(time.time())
    if fault == "audience":
        claims["aud"] = "some-other-client"
    elif fault == "expired":
        claims["iat"], claims["exp"] = now - 7200, now - 3600
    elif fault == "nonce":
        claims["nonce"] = "not-the-nonce-steward-sent"
    token = jwt.JWT(header=_b64decode(header).decode(), claims=json.dumps(claims))
    token.make_signed_token(key)
    return token.serialize()


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
