"""Production settings, read as a deployment reads them: config.settings (not the test settings)
in a fresh process with a production environment. Django's deployment check passes, the security
values are the production ones, a weak or default secret key stops the start, the demo keeps
plain http, and nothing but demo mode creates a user with a known password."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import DEMO_SECRET_KEY, env_proxy_ssl_header, secret_key_refuse_weak

ROOT = Path(__file__).resolve().parent.parent

# Every value these tests read; the test runner's own environment must not leak in.
_STEWARD_PREFIXES = ("STEWARD_", "DATABASE_URL", "REDIS_URL", "DJANGO_")


def production_env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_STEWARD_PREFIXES)}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        STEWARD_SECRET_KEY=secrets.token_urlsafe(48),  # 64 characters
        STEWARD_AUDIT_KEY=secrets.token_urlsafe(48),
        STEWARD_ALLOWED_HOSTS="steward.example",
        STEWARD_VAR_DIR=str(var_dir),  # its own SQLite database
        DATABASE_URL="",
    )
    env.update(extra)
    return env


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return run(env, "manage.py", *args)


def settings_of(env: dict[str, str], *names: str) -> dict:
    """The named settings as a process started with ``env`` sees them."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}))"
    )
    done = run(env, "-c", code)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def production(tmp_path_factory) -> dict[str, str]:
    """A production environment with its own migrated SQLite database."""
    env = production_env(tmp_path_factory.mktemp("production"))
    done = manage(env, "migrate", "--noinput", "-v0")
    assert done.returncode == 0, done.stderr
    return env


def test_it_passes_the_deployment_check(production):
    done = manage(production, "check", "--deploy", "--fail-level", "WARNING")
    output = done.stdout + done.stderr
    # Every issue has an id such as (security.W004) or (drf_spectacular.W001): none at all.
    assert re.findall(r"\(([\w.]+\.[EW]\d+)\)", output) == [], output
    assert "System check identified no issues (0 silenced)" in output
    assert done.returncode == 0, output


def test_it_serves_production_over_https_only(production):
    values = settings_of(
        production,
        "DEBUG",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "CSRF_COOKIE_SAMESITE",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_CONTENT_TYPE_NOSNIFF",
        "SECURE_REFERRER_POLICY",
        "X_FRAME_OPTIONS",
        "SESSION_COOKIE_AGE",
        "SESSION_EXPIRE_AT_BROWSER_CLOSE",
        "SECURE_PROXY_SSL_HEADER",
        "MIDDLEWARE",
    )
    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SESSION_COOKIE_SAMESITE"] == values["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert values["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert values["SECURE_REFERRER_POLICY"] == "same-origin"
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["SESSION_COOKIE_AGE"] == 8 * 3600
    assert values["SESSION_EXPIRE_AT_BROWSER_CLOSE"] is False
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert "django.middleware.csrf.CsrfViewMiddleware" in values["MIDDLEWARE"]
    assert "csp.middleware.CSPMiddleware" in values["MIDDLEWARE"]


def test_it_takes_the_knobs_from_the_environment(tmp_path):
    """Behind a TLS-terminating proxy that redirects by itself, with shorter sessions."""
    env = production_env(
        tmp_path,
        STEWARD_SECURE_SSL_REDIRECT="false",
        STEWARD_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https",
        STEWARD_HSTS_PRELOAD="false",
        STEWARD_SESSION_HOURS="2",
        STEWARD_SESSION_EXPIRE_AT_BROWSER_CLOSE="true",
    )
    values = settings_of(
        env,
        "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_HSTS_PRELOAD",
        "SESSION_COOKIE_AGE",
        "SESSION_EXPIRE_AT_BROWSER_CLOSE",
        "SESSION_COOKIE_SECURE",
    )
    assert values == {
        "SECURE_SSL_REDIRECT": False,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_HSTS_PRELOAD": False,
        "SESSION_COOKIE_AGE": 2 * 3600,
        "SESSION_EXPIRE_AT_BROWSER_CLOSE": True,
        "SESSION_COOKIE_SECURE": True,
    }


def test_the_demo_keeps_plain_http(tmp_path):
    env = production_env(tmp_path, STEWARD_DEMO="true")
    del env["STEWARD_SECRET_KEY"]
    values = settings_of(
        env, "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "SECURE_HSTS_SECONDS", "SECRET_KEY"
    )
    assert values == {
        "SECURE_SSL_REDIRECT": False,
        "SESSION_COOKIE_SECURE": False,
        "SECURE_HSTS_SECONDS": 0,
        "SECRET_KEY": DEMO_SECRET_KEY,
    }


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (None, "is not set"),
        (DEMO_SECRET_KEY, "is the public demo key"),
        ("django-insecure-" + "x7Kq2" * 10, "is a throwaway key"),
        ("x7Kq2-" * 8, "is shorter than 50 characters"),
        ("abcd" * 20, "has fewer than 5 different characters"),
    ],
    ids=["missing", "demo", "startproject", "short", "plain"],
)
def test_production_refuses_to_start_with_a_weak_secret_key(tmp_path, key, problem):
    env = production_env(tmp_path)
    if key is None:
        del env["STEWARD_SECRET_KEY"]
    else:
        env["STEWARD_SECRET_KEY"] = key
    done = manage(env, "check")
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert f"STEWARD_SECRET_KEY {problem}" in done.stderr
    assert "secrets.token_urlsafe(50)" in done.stderr  # how to make a good one


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (None, "STEWARD_AUDIT_KEY is not set"),
        ("x7Kq2-" * 8, "STEWARD_AUDIT_KEY is shorter than 50 characters"),
        ("same", "STEWARD_AUDIT_KEY must differ from STEWARD_SECRET_KEY"),
    ],
    ids=["missing", "short", "same-as-secret-key"],
)
def test_production_refuses_to_start_without_a_strong_audit_key(tmp_path, key, problem):
    """The audit chain's signing key lives outside the database; production needs its own."""
    env = production_env(tmp_path)
    if key is None:
        del env["STEWARD_AUDIT_KEY"]
    else:
        env["STEWARD_AUDIT_KEY"] = env["STEWARD_SECRET_KEY"] if key == "same" else key
    done = manage(env, "check")
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert problem in done.stderr


def test_the_audit_key_may_come_from_a_file_and_the_demo_derives_one(tmp_path):
    key_file = tmp_path / "audit.key"
    key_file.write_text(secrets.token_urlsafe(48) + "\n")
    env = production_env(tmp_path)
    del env["STEWARD_AUDIT_KEY"]
    env["STEWARD_AUDIT_KEY_FILE"] = str(key_file)
    assert settings_of(env, "STEWARD_AUDIT_KEY") == {
        "STEWARD_AUDIT_KEY": key_file.read_text().strip()
    }
    demo = production_env(tmp_path, STEWARD_DEMO="true")
    del demo["STEWARD_AUDIT_KEY"]
    derived = settings_of(demo, "STEWARD_AUDIT_KEY", "SECRET_KEY")
    assert derived["STEWARD_AUDIT_KEY"] and derived["STEWARD_AUDIT_KEY"] != derived["SECRET_KEY"]


def test_the_secret_key_rule_is_djangos():
    """Exactly 50 characters of 5 different kinds pass; one less of either is refused."""
    secret_key_refuse_weak("abcde" * 10)
    with pytest.raises(ImproperlyConfigured):
        secret_key_refuse_weak("abcde" * 9 + "abcd")
    with pytest.raises(ImproperlyConfigured):
        secret_key_refuse_weak("abcd" * 13)


@pytest.mark.parametrize(
    "raw", ["X-Forwarded-Proto", "X-Forwarded-Proto:", ": https", "X Forwarded: https", "é: x"]
)
def test_it_refuses_a_malformed_proxy_header(monkeypatch, raw):
    monkeypatch.setenv("STEWARD_SECURE_PROXY_SSL_HEADER", raw)
    with pytest.raises(ImproperlyConfigured, match="X-Forwarded-Proto: https"):
        env_proxy_ssl_header("STEWARD_SECURE_PROXY_SSL_HEADER")


def test_no_command_outside_demo_mode_creates_a_user_with_a_known_password(production):
    """After migrate (in the module fixture) and every command that loads data, production has
    no user anyone could sign in as with a password: seed_demo refuses to run."""
    done = manage(production, "install_doc_templates")
    assert done.returncode == 0, done.stderr
    refused = manage(production, "seed_demo")
    assert refused.returncode != 0
    assert "runs only in demo mode" in refused.stderr
    code = (
        "import django; django.setup(); from django.contrib.auth import get_user_model; "
        "users = get_user_model().objects.all(); "
        "print(users.count(), sum(u.has_usable_password() for u in users))"
    )
    counted = run(production, "-c", code)
    assert counted.returncode == 0, counted.stderr
    assert counted.stdout.split() == ["0", "0"]
