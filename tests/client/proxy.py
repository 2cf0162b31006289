"""A small HTTP proxy between the client and a live Steward, to make the network misbehave on
purpose: answer 503 (with Retry-After) to the first requests, or forward a request and then
drop its answer (the connection closes before a byte of the response is sent), as a load
balancer or a flaky network does. It records every request it saw."""

from __future__ import annotations

import http.client
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


@dataclass
class Seen:
    method: str
    path: str
    headers: dict
    status: int | None = None  # None: the answer was dropped
    replayed: bool = False


@dataclass
class Faults:
    """``unavailable``: this many requests answered 503 by the proxy itself.
    ``drop``: this many forwarded requests (matching ``drop_method``) lose their answer."""

    unavailable: int = 0
    retry_after: str = "0"
    drop: int = 0
    drop_method: str = "POST"
    seen: list[Seen] = field(default_factory=list)


class FlakyProxy:
    def __init__(self, upstream: str):
        self.upstream = urlsplit(upstream)
        self.faults = Faults()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(self.command, self.path, dict(self.headers))
                proxy.faults.seen.append(seen)
                if proxy.faults.unavailable > 0:
                    proxy.faults.unavailable -= 1
                    payload = b'{"message": "Try again in a moment.", "code": "unavailable"}'
                    seen.status = 503
                    self.send_response(503)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Retry-After", proxy.faults.retry_after)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                upstream = http.client.HTTPConnection(
                    proxy.upstream.hostname, proxy.upstream.port, timeout=60
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                content = answer.read()
                upstream.close()
                if proxy.faults.drop > 0 and self.command == proxy.faults.drop_method:
                    # The server did the work; the client never hears of it.
                    proxy.faults.drop -= 1
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                seen.status = answer.status
                seen.replayed = answer.getheader("Idempotent-Replayed") == "true"
                self.send_response(answer.status, answer.reason)
                for key, value in answer.getheaders():
                    if key.lower() not in HOP_BY_HOP | {"content-length"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FlakyProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
