"""Small typed readers for settings that come from the environment.

Each helper refuses a malformed value at start-up with ImproperlyConfigured, so a typo in a
deployment's environment stops the process instead of silently falling back to a default.
"""

from __future__ import annotations

import hashlib
import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


# The key settings.py falls back to in debug and demo mode; it is public, being in the repository.
DEMO_SECRET_KEY = "insecure-demo-key-only-for-local-demo-and-debug-never-production"  # noqa: S105
SECRET_KEY_MIN_LENGTH = 50  # Django's own rule (security.W009): at least 50 characters ...
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5  # ... of at least 5 different ones
_GENERATE_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"


def secret_key_refuse_weak(key: str, *, name: str = "STEWARD_SECRET_KEY") -> None:
    """Refuse, with ImproperlyConfigured, a production secret key that is missing, the public demo
    key, Django's throwaway ``django-insecure-`` kind, or too short or too plain by Django's own
    rule (the one ``check --deploy`` warns about as security.W009)."""
    problem = None
    if not key:
        problem = "is not set"
    elif key == DEMO_SECRET_KEY:
        problem = "is the public demo key"
    elif key.startswith("django-insecure"):
        problem = "is a throwaway key from django-admin startproject"
    elif len(key) < SECRET_KEY_MIN_LENGTH:
        problem = f"is shorter than {SECRET_KEY_MIN_LENGTH} characters"
    elif len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        problem = f"has fewer than {SECRET_KEY_MIN_UNIQUE_CHARACTERS} different characters"
    if problem:
        raise ImproperlyConfigured(
            f"{name} {problem}; production (STEWARD_DEBUG and STEWARD_DEMO off) needs a long "
            f"random key. Generate one with: {_GENERATE_KEY}"
        )


def env_secret(name: str) -> str:
    """A secret from ``NAME`` or from the file named by ``NAME_FILE`` (a mounted secret; its
    surrounding whitespace is dropped). Setting both, or naming a file that cannot be read, stops
    start-up."""
    value, file_name = os.environ.get(name, ""), os.environ.get(f"{name}_FILE", "").strip()
    if value and file_name:
        raise ImproperlyConfigured(f"set {name} or {name}_FILE, not both")
    if not file_name:
        return value
    try:
        with open(file_name, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError as exc:
        raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_name!r}: {exc}") from exc


def audit_key_derive(secret_key: str) -> str:
    """Debug and demo only: an audit key derived from the secret key, so the demo needs no
    second variable. It protects nothing the secret key does not (and the demo's is public)."""
    return hashlib.sha256(b"steward-audit-key:" + secret_key.encode("utf-8")).hexdigest()


def env_proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """``"X-Forwarded-Proto: https"`` -> ``("HTTP_X_FORWARDED_PROTO", "https")``, the form of
    Django's SECURE_PROXY_SSL_HEADER; unset or empty -> None."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    header, sep, value = raw.partition(":")
    header, value = header.strip(), value.strip()
    token = header.replace("-", "")
    if not (sep and value and token.isascii() and token.isalnum()):
        raise ImproperlyConfigured(
            f"{name} must look like 'X-Forwarded-Proto: https' (header: value), got {raw!r}"
        )
    return "HTTP_" + header.upper().replace("-", "_"), value
