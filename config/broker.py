"""Celery's broker and result store, read from the environment.

The broker is ``STEWARD_BROKER_URL`` (RabbitMQ, ``amqp://``, or Redis), by default
``REDIS_URL``; results, where a task keeps one, go to ``REDIS_URL``. A malformed URL stops
start-up with a message that names the variable and never repeats the password in it.
"""

from __future__ import annotations

import os
from urllib.parse import SplitResult, urlsplit

from django.core.exceptions import ImproperlyConfigured

AMQP_SCHEMES = frozenset({"amqp", "amqps", "pyamqp"})
REDIS_SCHEMES = frozenset({"redis", "rediss"})
BROKER_SCHEMES = AMQP_SCHEMES | REDIS_SCHEMES

# Publishing must fail fast when the broker is down (the request then waits in the outbox,
# core.outbox), not hold a web request while kombu retries the connection.
_REDIS_TRANSPORT = {"socket_connect_timeout": 2, "max_retries": 0}
# RabbitMQ confirms each message once it holds it (publisher confirms): the outbox marks a
# request "sent" only when the broker has it, not when it left this process.
_AMQP_TRANSPORT = {"max_retries": 0, "confirm_publish": True}


def url_redact(url: str) -> str:
    """``url`` with its password replaced by ``***``, for messages and logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


def _url_problem(parts: SplitResult, schemes: frozenset[str]) -> str | None:
    if parts.scheme not in schemes:
        return f"the scheme must be one of {', '.join(sorted(schemes))}"
    if not parts.hostname:
        return "it names no host"
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        return "its port is not a number between 0 and 65535"
    if any(c.isspace() for c in parts.geturl()):
        return "it contains white space"
    if parts.scheme in REDIS_SCHEMES:
        database = parts.path.strip("/")
        if database and not database.isdigit():
            return "the path must be a database number (redis://host:6379/0)"
    return None


def url_check(name: str, raw: str, schemes: frozenset[str] = BROKER_SCHEMES) -> str:
    """``raw`` (the value of ``name``) checked as a broker URL; ``;`` separates fail-over
    brokers of the same kind, as kombu reads it. Refuses a malformed one with
    ImproperlyConfigured."""
    urls = [part.strip() for part in raw.split(";")]
    for url in urls:
        try:
            problem = _url_problem(urlsplit(url), schemes)
        except ValueError as exc:
            problem = str(exc)
        if problem:
            raise ImproperlyConfigured(
                f"{name} is not a usable broker URL ({url_redact(url)!r}): {problem}; "
                "e.g. amqp://user:password@127.0.0.1:5672// or redis://127.0.0.1:6379/0"
            )
    kinds = {urlsplit(url).scheme in AMQP_SCHEMES for url in urls}
    if len(kinds) > 1:
        raise ImproperlyConfigured(f"{name}: fail-over brokers must all be RabbitMQ or all Redis")
    return ";".join(urls)


def redis_url_from_env() -> str:
    """``REDIS_URL`` checked, or empty when unset."""
    raw = os.environ.get("REDIS_URL", "").strip()
    return url_check("REDIS_URL", raw, REDIS_SCHEMES) if raw else ""


def broker_url_from_env(redis_url: str) -> str:
    """``STEWARD_BROKER_URL`` checked, else ``redis_url``; empty means no broker (in-process)."""
    raw = os.environ.get("STEWARD_BROKER_URL", "").strip()
    return url_check("STEWARD_BROKER_URL", raw) if raw else redis_url


def broker_is_amqp(url: str) -> bool:
    return urlsplit(url.split(";")[0]).scheme in AMQP_SCHEMES


def broker_transport_options(url: str) -> dict:
    """kombu's transport options for the broker at ``url`` (each transport knows its own)."""
    if not url:
        return {}
    return dict(_AMQP_TRANSPORT if broker_is_amqp(url) else _REDIS_TRANSPORT)
