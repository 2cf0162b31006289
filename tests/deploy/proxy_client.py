"""An HTTP client that talks to gunicorn the way the TLS proxy in front of it does."""

from __future__ import annotations

import http.client
import json as jsonlib
import socket
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode

# The client address the proxy forwards (a documentation address: only ever a header value).
CLIENT_IP = "203.0.113.7"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        return jsonlib.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class ProxyClient:
    """Requests from 127.0.0.1 (a trusted proxy) saying the client used HTTPS and who the
    client was, as nginx would. It keeps cookies itself: they are Secure, and a cookie jar would
    not send them over this plain-http hop. ``source`` picks another loopback address to play
    a peer that is not a trusted proxy."""

    def __init__(self, port: int, *, source: str = "127.0.0.1", forwarded: bool = True) -> None:
        self.port = port
        self.source = source
        self.forwarded = forwarded
        self.cookies: dict[str, str] = {}
        self.cookie_flags: dict[str, str] = {}
        self.origin = f"https://127.0.0.1:{port}"

    def request(
        self,
        method: str,
        path: str,
        *,
        json=None,
        form: dict | None = None,
        headers: dict | None = None,
        token: str | None = None,
    ) -> Response:
        sent = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if self.forwarded:
            sent |= {"X-Forwarded-Proto": "https", "X-Forwarded-For": CLIENT_IP}
        body = None
        if json is not None:
            body, sent["Content-Type"] = jsonlib.dumps(json).encode(), "application/json"
        elif form is not None:
            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if token:
            sent["Authorization"] = f"Bearer {token}"
        elif self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method not in ("GET", "HEAD") and not token:
            # What a browser sends with a form or fetch (Django checks it over HTTPS).
            sent |= {"Origin": self.origin, "Referer": f"{self.origin}{path}"}
            if "csrftoken" in self.cookies:
                sent["X-CSRFToken"] = self.cookies["csrftoken"]
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=60, source_address=(self.source, 0)
        )
        try:
            connection.request(method, path, body=body, headers=sent)
            answer = connection.getresponse()
            response = Response(answer.status, answer.headers, answer.read())
        finally:
            connection.close()
        for raw in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(raw)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
                self.cookie_flags[name] = raw
        return response


def wait_until(predicate, *, timeout: float, interval: float = 0.5, what: str = "it"):
    """Call ``predicate`` until it returns something true; that value, or AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:.0f}s")
        time.sleep(interval)
