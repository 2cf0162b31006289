"""The example nginx site (deploy/nginx/steward.conf), run for real: `nginx -t` accepts it, and
in front of gunicorn with deploy/gunicorn.conf.py it terminates TLS, redirects plain http,
serves static files from disk, lets large uploads through, and hands the backend the forwarding
headers Steward trusts (overwriting what a client forged). Only the ports, paths and certificate
are changed for the test, and the test checks that each replaced text is still in the file."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import runpy
import shutil
import socket
import ssl
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.net import client_ip
from tests.deploy.proxy_client import free_port, port_open, wait_until
from tests.services import service_missing

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "steward.conf"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
SERVER_NAME = "steward.example.com"
# The client's own loopback address: not a trusted proxy, unlike nginx's 127.0.0.1.
CLIENT_SOURCE = "127.0.0.3"


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


def site_for_test(*, http_port, https_port, backend_port, static_dir, cert, key) -> str:
    text = SITE.read_text()
    v6 = ipv6_loopback()
    replacements = [
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen [::]:80;", f"listen [::1]:{http_port};" if v6 else ""),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("listen [::]:443 ssl http2;", f"listen [::1]:{https_port} ssl http2;" if v6 else ""),
        ("server 127.0.0.1:8000 ", f"server 127.0.0.1:{backend_port} "),
        ("/etc/ssl/steward/fullchain.pem", str(cert)),
        ("/etc/ssl/steward/privkey.pem", str(key)),
        ("alias /var/lib/steward/static/;", f"alias {static_dir}/;"),
    ]
    for old, new in replacements:
        assert text.count(old) == 1, f"the site no longer says {old!r}"
        text = text.replace(old, new)
    return text


def nginx_conf(folder: Path, site: Path) -> str:
    """A minimal main configuration around the site, everything kept in ``folder``."""
    temp = " ".join(
        f"{kind}_temp_path {folder}/{kind};" for kind in ("client_body", "proxy", "fastcgi")
    )
    user = "user root;" if os.geteuid() == 0 else ""  # workers must read the tmp folders
    return f"""
        daemon off;
        {user}
        worker_processes 1;
        pid {folder}/nginx.pid;
        error_log {folder}/error.log warn;
        events {{ worker_connections 64; }}
        http {{
            include /etc/nginx/mime.types;
            default_type application/octet-stream;
            access_log {folder}/access.log;
            {temp} uwsgi_temp_path {folder}/uwsgi; scgi_temp_path {folder}/scgi;
            include {site};
        }}
    """


@pytest.fixture
def tools():
    # /usr/sbin is not on every PATH.
    nginx = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
    openssl = shutil.which("openssl")
    if not (nginx and openssl):
        service_missing("needs nginx and openssl (make system-deps installs them)")
    return SimpleNamespace(nginx=nginx, openssl=openssl)


@pytest.fixture
def certificate(tools, tmp_path):
    cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    subprocess.run(
        [tools.openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", f"/CN={SERVER_NAME}"]
        + ["-addext", f"subjectAltName=DNS:{SERVER_NAME},IP:127.0.0.1"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


@pytest.fixture
def backend(tmp_path):
    """gunicorn with Steward's configuration, serving the echo app; nginx at 127.0.0.1 is the
    trusted proxy."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("STEWARD_", "WEB_"))},
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_WORKERS": "1",
        "STEWARD_TRUSTED_PROXIES": "127.0.0.1",
    }
    log = tmp_path / "gunicorn.log"
    process = subprocess.Popen(  # noqa: S603
        [str(Path(sys.executable).parent / "gunicorn"), "-c", str(GUNICORN_CONF)]
        + ["tests.deploy.echo_app:app"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(
            lambda: process.poll() is None and port_open(port) or process.poll() is not None,
            timeout=60,
            what="gunicorn listening",
        )
        assert process.poll() is None, log.read_text()
        yield port
    finally:
        process.terminate()
        process.wait(30)


@pytest.fixture
def proxy(tools, certificate, backend, tmp_path):
    cert, key = certificate
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "probe.css").write_text("body { color: #123456; }\n" * 50)
    (static / "css" / "probe.css.gz").write_bytes(gzip.compress(b"gzipped on disk"))
    ports = SimpleNamespace(http=free_port(), https=free_port(), backend=backend, cert=cert)
    site = tmp_path / "steward.conf"
    site.write_text(
        site_for_test(
            http_port=ports.http,
            https_port=ports.https,
            backend_port=backend,
            static_dir=static,
            cert=cert,
            key=key,
        )
    )
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_conf(tmp_path, site))
    base = [tools.nginx, "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(conf)]
    checked = subprocess.run([*base, "-t"], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr
    process = subprocess.Popen(base, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        wait_until(lambda: port_open(ports.https), timeout=30, what="nginx listening")
        yield ports
    finally:
        process.terminate()
        process.wait(30)


def https(ports, method, path, *, body=None, headers=None):
    context = ssl.create_default_context(cafile=str(ports.cert))
    connection = http.client.HTTPSConnection(
        "127.0.0.1", ports.https, context=context, timeout=60, source_address=(CLIENT_SOURCE, 0)
    )
    try:
        sent = {"Host": SERVER_NAME, **(headers or {})}
        connection.request(method, path, body=body, headers=sent)
        answer = connection.getresponse()
        return answer, answer.read()
    finally:
        connection.close()


def test_it_hands_the_backend_the_headers_steward_trusts(proxy, settings):
    answer, body = https(
        proxy,
        "GET",
        "/models/",
        # A client forging both headers: the address is kept left of the real one, the
        # protocol is overwritten.
        headers={"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "http"},
    )
    assert answer.status == 200
    seen = json.loads(body)
    assert seen["scheme"] == "https"  # gunicorn believed nginx (a trusted proxy)
    assert seen["x_forwarded_proto"] == "https"
    assert seen["remote_addr"] == "127.0.0.1"
    assert seen["host"] == SERVER_NAME
    assert seen["x_forwarded_for"] == f"198.51.100.1, {CLIENT_SOURCE}"
    # What Steward concludes from it: the address nginx saw, never the forged one.
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    request = SimpleNamespace(
        META={"REMOTE_ADDR": seen["remote_addr"], "HTTP_X_FORWARDED_FOR": seen["x_forwarded_for"]}
    )
    assert client_ip(request) == CLIENT_SOURCE


def test_plain_http_is_redirected_to_https(proxy):
    connection = http.client.HTTPConnection("127.0.0.1", proxy.http, timeout=30)
    connection.request("GET", "/login/?next=/inbox/", headers={"Host": SERVER_NAME})
    answer = connection.getresponse()
    assert answer.status == 301
    assert answer.headers["Location"] == f"https://{SERVER_NAME}/login/?next=/inbox/"


def test_static_files_come_from_disk_not_from_the_backend(proxy):
    answer, body = https(proxy, "GET", "/static/css/probe.css")
    assert answer.status == 200
    assert body.startswith(b"body { color: #123456; }")
    assert answer.headers["Content-Type"] == "text/css"
    assert "max-age=3600" in answer.headers["Cache-Control"]
    zipped, body = https(proxy, "GET", "/static/css/probe.css", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"  # whitenoise's .gz, as it is
    assert gzip.decompress(body) == b"gzipped on disk"
    missing, body = https(proxy, "GET", "/static/css/nothing.css")
    assert missing.status == 404 and b"scheme" not in body  # never handed to gunicorn


def test_large_bodies_reach_the_backend(proxy):
    payload = os.urandom(3 * 1024 * 1024)  # three times nginx's default limit
    answer, body = https(
        proxy,
        "POST",
        "/api/v1/artifacts/",
        body=payload,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert answer.status == 200
    assert json.loads(body)["body_bytes"] == len(payload)


def _size(text: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kmg]?)", text).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit]


def _seconds(name: str) -> int:
    return int(re.search(rf"^\s*{name} (\d+)s;", SITE.read_text(), re.M)[1])


def test_its_limits_match_steward_and_gunicorn(settings):
    """nginx lets through a little more than Steward's upload limit (so Steward answers an
    oversized upload with its JSON 413), and waits longer than gunicorn lets a request run."""
    limit = _size(re.search(r"client_max_body_size (\w+);", SITE.read_text())[1])
    assert settings.ARTIFACT_MAX_BYTES < limit <= settings.ARTIFACT_MAX_BYTES + 16 * 1024**2
    gunicorn = runpy.run_path(str(GUNICORN_CONF))
    assert _seconds("proxy_read_timeout") > gunicorn["timeout"]
