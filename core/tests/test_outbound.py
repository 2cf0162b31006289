"""The outbound policy: what the server may send requests to, and how it sends them."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core import outbound
from core.errors import InvalidInput
from core.outbound import OutboundUnavailable, outbound_post, outbound_url_check

PUBLIC = "93.184.216.34"


class LocalReceiver:
    """An HTTP server on 127.0.0.1 in a thread that records every request and answers from a
    script of (status, headers, body) (then 200 "ok"). Use as a context manager."""

    def __init__(
        self, *script: tuple[int, dict, bytes], delay: float = 0.0, tls: tuple | None = None
    ):
        self.script = list(script)
        self.requests: list[dict] = []
        self.server_names: list[str | None] = []
        self.delay = delay
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                status, headers, answer = (
                    receiver.script.pop(0) if receiver.script else (200, {}, b"ok")
                )
                time.sleep(receiver.delay)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except ConnectionError:  # the client gave up waiting
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            context.sni_callback = lambda sock, name, ctx: self.server_names.append(name)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)

    def __enter__(self) -> LocalReceiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def resolver(monkeypatch):
    """Names resolve from this table (unknown names fail); calls are counted."""
    table: dict[str, list[str]] = {"hooks.example.com": [PUBLIC]}
    calls: list[str] = []

    def host_addresses(host, port):
        calls.append(host)
        if host not in table:
            raise OSError("Name or service not known")
        return table[host]

    monkeypatch.setattr(outbound, "host_addresses", host_addresses)
    table["calls"] = calls
    return table


@pytest.fixture
def allow(settings):
    def set_allowed(*entries):
        settings.STEWARD_OUTBOUND_ALLOWED_HOSTS = list(entries)

    set_allowed()
    return set_allowed


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://127.0.0.1/hook", "loopback"),
        ("https://127.8.9.10/", "loopback"),
        ("https://[::1]/hook", "loopback"),
        ("https://10.1.2.3/", "private"),
        ("https://172.16.0.1/", "private"),
        ("https://172.31.255.254/", "private"),
        ("https://192.168.1.1/", "private"),
        ("https://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("https://169.254.1.1/", "link-local"),
        ("https://[fe80::1]/", "link-local"),
        ("https://[fc00::1]/", "private"),
        ("https://[fd12:3456::1]/", "private"),
        ("https://[::ffff:127.0.0.1]/", "loopback"),
        ("https://[::ffff:169.254.169.254]/", "metadata"),
        ("https://[64:ff9b::a9fe:a9fe]/", "metadata"),
        ("https://[2002:7f00:1::]/", "loopback"),
        ("https://0.0.0.0/", "unspecified"),
        ("https://[::]/", "unspecified"),
        ("https://100.64.0.1/", "CGNAT"),
        ("https://224.0.0.1/", "multicast"),
        ("https://240.0.0.1/", "reserved"),
        ("https://2130706433/", "non-standard spelling of the IP address 127.0.0.1"),
        ("https://0x7f.1/", "non-standard spelling of the IP address 127.0.0.1"),
        ("https://017700000001/", "non-standard spelling of the IP address 127.0.0.1"),
        ("https://0x7f000001/", "non-standard spelling"),
        ("https://127.1/", "non-standard spelling"),
        ("https://0251.0376.0251.0376/", "169.254.169.254"),
        ("https://localhost/hook", "'localhost' resolves to"),
        ("http://hooks.example.com/x", "https"),
        ("ftp://hooks.example.com/x", "https"),
        ("file:///etc/passwd", "https"),
        ("https://user:secret@hooks.example.com/", "user name or password"),
        ("https://hooks.example.com@127.0.0.1/", "user name or password"),
        ("https:///no-host", "no host"),
        ("https://hooks.example.com:99999/", "port"),
        ("https://hooks.example.com/a b", "spaces"),
        ("https://no-such-host.example/", "cannot be resolved"),
        ("https://under_score.example/", "not a valid host"),
    ],
)
def test_it_refuses(url, says, resolver, allow):
    if "localhost" in url:
        resolver["localhost"] = ["127.0.0.1", "::1"]
    with pytest.raises(InvalidInput, match=says):
        outbound_url_check(url)


def test_it_checks_every_address_a_name_resolves_to(resolver, allow):
    resolver["mixed.example.com"] = [PUBLIC, "2606:2800:220:1::1", "10.0.0.7"]
    with pytest.raises(InvalidInput, match="resolves to 10.0.0.7, a private address"):
        outbound_url_check("https://mixed.example.com/hook")


def test_the_real_resolver_refuses_localhost(allow):
    """No monkeypatching: 'localhost' resolves through the system to a loopback address."""
    with pytest.raises(InvalidInput, match="loopback"):
        outbound_url_check("https://localhost/hook")


def test_it_accepts_a_public_https_target_and_keeps_the_checked_addresses(resolver, allow):
    target = outbound_url_check("https://Hooks.Example.com:8443/services/T0/B1?x=1")
    assert (target.scheme, target.host, target.port) == ("https", "hooks.example.com", 8443)
    assert target.path == "/services/T0/B1?x=1"
    assert target.addresses == (PUBLIC,)
    assert not target.allow_listed


def test_the_allow_list_lets_named_internal_targets_through(resolver, allow):
    allow("127.0.0.1", "hooks.corp.internal", "10.20.0.0/16")
    assert outbound_url_check("http://127.0.0.1:8080/x").allow_listed
    resolver["hooks.corp.internal"] = ["10.9.9.9"]
    assert outbound_url_check("http://hooks.corp.internal/x").addresses == ("10.9.9.9",)
    resolver["build.corp.internal"] = ["10.20.3.4"]
    assert outbound_url_check("https://build.corp.internal/x").allow_listed
    # Allowed networks do not make plain http acceptable for an unnamed host...
    with pytest.raises(InvalidInput, match="https"):
        outbound_url_check("http://build.corp.internal/x")
    # ...and other internal addresses stay refused.
    with pytest.raises(InvalidInput, match="loopback"):
        outbound_url_check("https://127.0.0.2/")
    with pytest.raises(InvalidInput, match="non-standard"):
        outbound_url_check("http://2130706433/")


# --- Sending ---------------------------------------------------------------------------------


def test_it_posts_and_returns_the_status_and_a_short_text(allow):
    allow("127.0.0.1")
    with LocalReceiver((202, {}, b"accepted " * 100_000)) as receiver:
        status, text = outbound_post(
            receiver.url, body=b'{"a":1}', headers={"X-Test": "yes"}, timeout=5
        )
    assert status == 202
    assert text.startswith("accepted accepted")
    assert len(text) <= outbound.SHORT_TEXT_CHARS
    [request] = receiver.requests
    assert request["body"] == b'{"a":1}'
    assert request["headers"]["X-Test"] == "yes"
    assert request["headers"]["Host"] == f"127.0.0.1:{receiver.server.server_port}"


@pytest.mark.parametrize(
    "location", ["http://127.0.0.1:{port}/elsewhere", "http://169.254.169.254/latest/meta-data/"]
)
def test_a_redirect_is_not_followed(allow, location):
    allow("127.0.0.1")
    with LocalReceiver() as elsewhere:
        to = location.format(port=elsewhere.server.server_port)
        with LocalReceiver((302, {"Location": to}, b"")) as receiver:
            status, text = outbound_post(receiver.url, body=b"{}", headers={}, timeout=5)
    assert status == 302
    assert "redirects are never followed" in text
    assert to in text
    assert len(receiver.requests) == 1
    assert elsewhere.requests == []


def test_it_connects_to_the_address_it_checked_not_a_second_answer(resolver, allow, monkeypatch):
    """DNS rebinding: the name resolves once per send, and the connection goes to the address
    that was checked, even if a later lookup would say 127.0.0.1."""
    answers = iter([[PUBLIC], ["127.0.0.1"]])
    monkeypatch.setattr(outbound, "host_addresses", lambda host, port: next(answers))
    connected = []

    def connect_pinned(addresses, port, timeout):
        connected.append((addresses, port))
        raise ConnectionRefusedError("test stops here")

    monkeypatch.setattr(outbound, "_connect_pinned", connect_pinned)
    with pytest.raises(OutboundUnavailable, match="No answer from hooks.example.com"):
        outbound_post("https://hooks.example.com/hook", body=b"{}", headers={}, timeout=1)
    assert connected == [((PUBLIC,), 443)]


def test_it_refuses_at_send_time_what_it_would_refuse_at_save_time(allow):
    with (
        LocalReceiver() as receiver,
        pytest.raises(InvalidInput, match="STEWARD_OUTBOUND_ALLOWED_HOSTS"),
    ):
        outbound_post(receiver.url, body=b"{}", headers={}, timeout=5)
    assert receiver.requests == []


def test_a_slow_or_absent_receiver_is_unavailable_not_an_error(allow):
    allow("127.0.0.1")
    with LocalReceiver(delay=1.0) as receiver:
        with pytest.raises(OutboundUnavailable):
            outbound_post(receiver.url, body=b"{}", headers={}, timeout=0.2)
        port = receiver.server.server_port
    with pytest.raises(OutboundUnavailable):
        outbound_post(f"http://127.0.0.1:{port}/gone", body=b"{}", headers={}, timeout=1)


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for hooks.example.com, and a client context trusting it."""
    if not shutil.which("openssl"):
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=hooks.example.com"]
        + ["-addext", "subjectAltName=DNS:hooks.example.com"],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_https_goes_to_the_checked_address_with_the_name_for_sni_and_the_certificate(
    resolver, allow, certificate, monkeypatch
):
    """The connection is pinned to the checked address while TLS still verifies the name."""
    cert, key = certificate
    trusting = ssl.create_default_context(cafile=str(cert))
    monkeypatch.setattr(ssl, "create_default_context", lambda *a, **k: trusting)
    allow("hooks.example.com", "other.example.com")
    resolver["hooks.example.com"] = ["127.0.0.1"]
    resolver["other.example.com"] = ["127.0.0.1"]
    with LocalReceiver(tls=(cert, key)) as receiver:
        port = receiver.server.server_port
        status, _ = outbound_post(
            f"https://hooks.example.com:{port}/hook", body=b"{}", headers={}, timeout=5
        )
        # The same address under a name the certificate does not carry: refused by TLS.
        with pytest.raises(OutboundUnavailable, match="certificate"):
            outbound_post(f"https://other.example.com:{port}/", body=b"{}", headers={}, timeout=5)
    assert status == 200
    assert receiver.requests[0]["headers"]["Host"] == f"hooks.example.com:{port}"
    assert receiver.server_names[0] == "hooks.example.com"
    assert len(receiver.requests) == 1
