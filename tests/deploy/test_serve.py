"""`make serve` for real: scripts/serve.py starts gunicorn (deploy/gunicorn.conf.py), a Celery
worker and Celery beat with production settings, against a PostgreSQL database of its own and a
spare Redis database. The test talks to gunicorn as the TLS proxy in front of it would, signs in
through the login page, registers a model and a version with an API token, has a document made
by the worker, and stops everything with SIGINT. Without DATABASE_URL or REDIS_URL the script
says what is missing in one line and exits non-zero."""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
import pytest

from tests.deploy.processes import SERVE, pid_alive, production_env
from tests.deploy.proxy_client import CLIENT_IP, ProxyClient, free_port, port_open, wait_until
from tests.services import TEST_REDIS_URL, require_redis, service_missing

ROOT = Path(__file__).resolve().parents[2]
SERVE_DATABASE = "steward_serve_test"
# A Redis database of its own: the worker started here consumes the default queue, which must
# not be shared with the documentation tests' workers (database 13).
SERVE_REDIS_DB = 12
# Migrations on an empty database and collectstatic (it compresses every file) come first.
START_TIMEOUT = 480  # about 40 s on an idle 2-core machine; far more when it is shared
DOCUMENT_TIMEOUT = 180
STOP_TIMEOUT = 90
ADMIN_PASSWORD = secrets.token_urlsafe(24)


def serve(env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SERVE)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


# --- without its services, it says what is missing --------------------------------------------


@pytest.mark.parametrize("missing", ["DATABASE_URL", "REDIS_URL"])
def test_it_refuses_to_start_without_database_or_redis(missing, tmp_path):
    env = production_env(
        DATABASE_URL="postgres://steward@127.0.0.1:5432/steward",
        REDIS_URL="redis://127.0.0.1:6379/0",
        STEWARD_VAR_DIR=str(tmp_path),
    )
    del env[missing]
    done = serve(env)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr  # one line, no traceback
    assert lines[0].startswith(f"serve: missing {missing}:")
    # It says what the production settings need, and how to make a key.
    for name in ("DATABASE_URL", "REDIS_URL", "STEWARD_SECRET_KEY", "STEWARD_AUDIT_KEY"):
        assert name in lines[0]
    assert "secrets.token_urlsafe(50)" in lines[0]
    assert not (tmp_path / "static").exists()  # nothing was started or collected


def test_a_rabbitmq_broker_stands_in_for_redis(tmp_path):
    env = production_env(
        DATABASE_URL="postgres://steward@127.0.0.1:5432/steward",
        STEWARD_BROKER_URL="amqp://guest:guest@127.0.0.1:5672//",
        STEWARD_SECRET_KEY="short-key",
        STEWARD_VAR_DIR=str(tmp_path),
    )
    env.pop("REDIS_URL", None)
    done = serve(env)
    # Past the check of what is missing: the next check (the weak key) is the one refusing.
    assert done.returncode == 2
    assert "missing" not in done.stderr
    assert done.stderr.startswith("serve: STEWARD_SECRET_KEY is shorter than 50 characters")


def test_it_names_every_missing_variable_and_a_weak_key(tmp_path):
    env = production_env(STEWARD_VAR_DIR=str(tmp_path))
    del env["STEWARD_SECRET_KEY"], env["STEWARD_AUDIT_KEY"]
    done = serve(env)
    assert done.returncode == 2
    assert done.stderr.startswith(
        "serve: missing DATABASE_URL, REDIS_URL, STEWARD_SECRET_KEY, STEWARD_AUDIT_KEY:"
    )
    weak = production_env(
        DATABASE_URL="postgres://steward@127.0.0.1:5432/steward",
        REDIS_URL="redis://127.0.0.1:6379/0",
        STEWARD_SECRET_KEY="short-key",
        STEWARD_VAR_DIR=str(tmp_path),
    )
    done = serve(weak)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "serve: STEWARD_SECRET_KEY is shorter than 50 characters; production (STEWARD_DEBUG "
        "and STEWARD_DEMO off) needs a long random key. Generate one with: python -c 'import "
        "secrets; print(secrets.token_urlsafe(50))'"
    ]


def test_it_runs_production_settings_only(tmp_path):
    env = production_env(
        DATABASE_URL="postgres://steward@127.0.0.1:5432/steward",
        REDIS_URL="redis://127.0.0.1:6379/0",
        STEWARD_DEMO="true",
        STEWARD_VAR_DIR=str(tmp_path),
    )
    done = serve(env)
    assert done.returncode == 2
    assert "unset STEWARD_DEBUG and STEWARD_DEMO" in done.stderr


# --- for real -------------------------------------------------------------------------------


@pytest.fixture
def serve_database_url():
    """A PostgreSQL database of its own on the server the suite uses, dropped afterwards."""
    url = os.environ.get("DATABASE_URL", "")
    config = dj_database_url.parse(url) if url else {}
    if "postgresql" not in config.get("ENGINE", ""):
        service_missing(f"needs PostgreSQL (DATABASE_URL); got {url or 'nothing'}")
    import psycopg

    server = {
        "host": config.get("HOST") or "127.0.0.1",
        "port": config.get("PORT") or 5432,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
    }
    try:
        admin = psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=5, **server)
    except psycopg.OperationalError as exc:
        service_missing(f"needs PostgreSQL at {server['host']}:{server['port']}: {exc}")
    with admin:
        admin.execute(f"DROP DATABASE IF EXISTS {SERVE_DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {SERVE_DATABASE}")
        yield urlunsplit(urlsplit(url)._replace(path=f"/{SERVE_DATABASE}"))
        admin.execute(f"DROP DATABASE IF EXISTS {SERVE_DATABASE} WITH (FORCE)")


@pytest.fixture
def serve_redis_url():
    import redis

    url = urlunsplit(urlsplit(TEST_REDIS_URL)._replace(path=f"/{SERVE_REDIS_DB}"))
    require_redis(url)
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()


class Serve:
    """scripts/serve.py as a subprocess, its output in a file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.port = int(env["PORT"])
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, str(SERVE)],
            cwd=ROOT,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def pids(self) -> dict[str, int]:
        found = re.search(r"serve: started (.*); Ctrl-C", self.output())
        assert found, self.output()[-3000:]
        return {m[0]: int(m[1]) for m in re.findall(r"(\w+) \(pid (\d+)\)", found[1])}

    def check_running(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"serve exited ({self.process.returncode}):\n{self.tail()}")

    def tail(self) -> str:
        return self.output()[-4000:]

    def manage(self, *args: str, **env: str) -> None:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def served(serve_database_url, serve_redis_url, tmp_path):
    """make serve's processes on a free port, answering; stopped afterwards whatever happens."""
    port = free_port()
    env = production_env(
        DATABASE_URL=serve_database_url,
        REDIS_URL=serve_redis_url,
        STEWARD_VAR_DIR=str(tmp_path / "var"),
        STEWARD_ALLOWED_HOSTS="127.0.0.1",
        # This test plays the TLS proxy, from 127.0.0.1 (see ProxyClient).
        STEWARD_TRUSTED_PROXIES="127.0.0.1",
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_WORKERS="2",
        WORKER_CONCURRENCY="1",
        SERVE_STOP_TIMEOUT="60",
        STEWARD_OUTBOX_RELAY_SECONDS="2",
    )
    running = Serve(env, tmp_path / "serve.log")
    client = ProxyClient(port)

    def answers() -> bool:
        running.check_running()
        return port_open(port) and client.request("GET", "/login/").status == 200

    try:
        wait_until(answers, timeout=START_TIMEOUT, what="serve answering /login/")
        wait_until(lambda: " ready." in running.output(), timeout=60, what="the worker ready")
        yield running
    finally:
        running.stop()


@pytest.mark.postgres
@pytest.mark.celery
def test_make_serve_signs_in_registers_and_has_the_worker_make_a_document(served):
    port = served.port
    pids = served.pids()
    assert set(pids) == {"web", "worker", "beat"}

    # Production settings: plain http is redirected to https, and so is a peer that is not a
    # trusted proxy claiming https (gunicorn ignores its X-Forwarded-Proto).
    plain = ProxyClient(port, forwarded=False).request("GET", "/login/")
    assert plain.status == 301
    assert plain.headers["Location"] == f"https://127.0.0.1:{port}/login/"
    stranger = ProxyClient(port, source="127.0.0.2").request("GET", "/login/")
    assert stranger.status == 301

    # The first administrator, as docs/deployment.md says to create one.
    served.manage(
        "createsuperuser",
        "--noinput",
        "--username",
        "admin",
        "--email",
        "admin@example.com",
        DJANGO_SUPERUSER_PASSWORD=ADMIN_PASSWORD,
    )

    # Sign in through the page.
    browser = ProxyClient(port)
    page = browser.request("GET", "/login/")
    assert page.status == 200
    assert "max-age=31536000" in page.headers["Strict-Transport-Security"]
    assert "; Secure" in browser.cookie_flags["csrftoken"]
    stylesheet = re.search(r'href="(/static/[^"]+\.css)"', page.text)[1]
    assert browser.request("GET", stylesheet).status == 200  # collected, served by whitenoise
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    wrong = browser.request(
        "POST",
        "/login/",
        form={"username": "admin", "password": "not-it", "csrfmiddlewaretoken": csrf},
    )
    assert wrong.status == 200 and "sessionid" not in browser.cookies
    signed_in = browser.request(
        "POST",
        "/login/",
        form={"username": "admin", "password": ADMIN_PASSWORD, "csrfmiddlewaretoken": csrf},
    )
    assert signed_in.status == 302, signed_in.text[:2000]
    assert "sessionid" in browser.cookies
    assert "; Secure" in browser.cookie_flags["sessionid"]
    assert "HttpOnly" in browser.cookie_flags["sessionid"]
    assert browser.request("GET", "/api/v1/me/").json()["username"] == "admin"

    # An API token, made with the session; then everything else as a CI pipeline would.
    made = browser.request(
        "POST",
        "/api/v1/tokens/",
        json={"name": "serve-test", "scopes": ["read", "write", "annotate"]},
    )
    assert made.status == 201, made.text
    token = made.json()["secret"]
    api = ProxyClient(port)

    def call(method: str, path: str, json=None, expect: int = 201):
        response = api.request(method, path, json=json, token=token)
        assert response.status == expect, f"{method} {path}: {response.status} {response.text}"
        return response.json()

    call("POST", "/api/v1/teams/", {"name": "Serving", "slug": "serving"})
    call("POST", "/api/v1/models/", {"name": "served-model", "owner_team": "serving"})
    version = call(
        "POST",
        "/api/v1/models/served-model/versions/",
        {
            "artifact_uri": "s3://models/served-model/1/model.pkl",
            "artifact_sha256": "ab" * 32,
            "framework": "sklearn",
            "metrics": {"auc": 0.91},
        },
    )
    assert version["version"] == 1
    documents = "/api/v1/models/served-model/versions/1/documents/"
    queued = call("POST", documents, {"template": "model-card"}, expect=202)
    assert queued["status"] in ("queued", "running")

    def finished():
        document = call("GET", f"{documents}{queued['id']}/", expect=200)
        return document if document["status"] in ("done", "failed") else None

    document = wait_until(finished, timeout=DOCUMENT_TIMEOUT, what="the model card")
    assert document["status"] == "done", document["error"]
    pdf = api.request("GET", f"{documents}{queued['id']}/download/?format=pdf", token=token)
    assert pdf.status == 200 and pdf.body.startswith(b"%PDF")
    # Made by the Celery worker (with REDIS_URL the web processes never run tasks themselves).
    received = r"^worker +\| .*Task governance\.generate_document\[[0-9a-f-]+\] received"
    assert re.search(received, served.output(), re.M)

    # The proxy's X-Forwarded-For is believed from a trusted proxy: the sign-ins came from the
    # client, not from 127.0.0.1.
    events = call("GET", "/api/v1/login-events/", expect=200)["results"]
    logins = [event for event in events if event["username"] == "admin"]
    assert {event["ip_address"] for event in logins} == {CLIENT_IP}
    assert {event["outcome"] for event in logins} >= {"success", "failure"}
    # Beat runs its schedule (the outbox relay ticks every 2 s here).
    wait_until(
        lambda: re.search(r"^beat +\| .*Sending due task relay-outbox", served.output(), re.M),
        timeout=30,
        what="beat sending the outbox relay",
    )

    # Ctrl-C: all three stop, gracefully, and the port is free again.
    served.process.send_signal(signal.SIGINT)
    assert served.process.wait(STOP_TIMEOUT) == 0, served.tail()
    assert not [name for name, pid in pids.items() if pid_alive(pid)]
    assert "serve: stopped: web (0), worker (0), beat (0)" in served.output()
    assert not port_open(port)
