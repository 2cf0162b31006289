"""gunicorn's configuration for Steward: `make serve`, the systemd unit and the benchmark start
the web server with it, as

    .venv/bin/gunicorn -c deploy/gunicorn.conf.py config.wsgi

Everything an operator changes comes from the environment (deploy/steward.env.example):

    HOST, PORT      where to listen (127.0.0.1:8000: behind a reverse proxy on the same host)
    WEB_WORKERS     worker processes (2 x CPUs + 1)
    WEB_THREADS     threads per worker (1: sync workers; more switches to gthread workers)
    WEB_TIMEOUT     seconds a request may take before its worker is killed and replaced (60)
    WEB_MAX_REQUESTS  requests a worker serves before it is replaced (20000; 0: never)
    STEWARD_TRUSTED_PROXIES  the proxies whose X-Forwarded-Proto gunicorn believes (empty: none)

The Django settings themselves come from the same environment (README "Configuration").
"""

from __future__ import annotations

import ipaddress
import os
import sys


def _int(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SystemExit(f"{name} must be at least {minimum}, got {value}")
    return value


# Networks larger than this are refused rather than expanded (see _forwarded_allow_ips).
_LARGEST_EXPANDED_NETWORK = 256


def _forwarded_allow_ips(raw: str) -> str:
    """The addresses in STEWARD_TRUSTED_PROXIES (what Steward believes X-Forwarded-For from), as
    gunicorn's forwarded_allow_ips: only a request from one of them may say it arrived over
    HTTPS (X-Forwarded-Proto). gunicorn 23 takes single addresses only, so a small network is
    listed address by address; a larger one stops the start (list the proxies themselves)."""
    addresses: list[str] = []
    for entry in (item.strip() for item in raw.split(",")):
        if not entry:
            continue
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise SystemExit(
                f"STEWARD_TRUSTED_PROXIES: {entry!r} is not an IP address or network"
            ) from None
        if network.num_addresses > _LARGEST_EXPANDED_NETWORK:
            raise SystemExit(
                f"STEWARD_TRUSTED_PROXIES: {entry} has more than {_LARGEST_EXPANDED_NETWORK} "
                "addresses; list the proxies' own addresses"
            )
        addresses.extend(str(address) for address in network)
    return ",".join(addresses)


bind = f"{os.environ.get('HOST') or '127.0.0.1'}:{_int('PORT', 8000, minimum=0)}"

# Sync workers, 2n+1 of them (gunicorn's own advice): a request holds a worker from start to end,
# which is safe with Django's per-thread database connections and cheap behind a buffering
# proxy (nginx receives slow uploads and slow readers, so a worker never waits on a client).
workers = _int("WEB_WORKERS", 2 * (os.cpu_count() or 1) + 1)
threads = _int("WEB_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"
# The workers' heartbeat files on a RAM disk: a slow or full /tmp cannot make the master think
# a busy worker is stuck. (gunicorn makes them with mkstemp and unlinks them at once.)
_SHM = "/dev/shm"  # noqa: S108
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None

# Import Django and the apps once in the master, then fork: workers start (and restart after
# max_requests) in milliseconds and share the loaded code's memory (config/wsgi.py freezes it
# out of the garbage collector). The price: new code needs a restart, not a HUP.
preload_app = True

# Recycle each worker after about WEB_MAX_REQUESTS requests (20,000), the jitter so they do not
# all restart at once: a slow leak in any library cannot grow for ever. Not much sooner: a new
# worker pays for its warm-up (copy-on-write of the preloaded heap, a database connection, its
# prepared statements); measured with bench/registry.py, recycling every 1,000 requests cost a
# third of the throughput of version reads (180 against 264 requests/s).
max_requests = _int("WEB_MAX_REQUESTS", 20_000, minimum=0)
max_requests_jitter = max_requests // 10

# A request running longer than this kills its worker (the client gets a 502 from the proxy).
timeout = _int("WEB_TIMEOUT", 60)
# On SIGTERM (systemctl stop, Ctrl-C in `make serve`) stop accepting, let requests in progress
# finish for up to this long, then stop.
graceful_timeout = 30
# Idle keep-alive connections from the proxy are held this long (gthread workers only; sync
# workers close each connection after its response).
keepalive = 5

# Requests from these addresses may say the client used HTTPS; Django then sees https (secure
# cookies, no redirect, HSTS). Anyone else's X-Forwarded-Proto is ignored, so leave Django's
# STEWARD_SECURE_PROXY_SSL_HEADER unset under gunicorn. Only the one header nginx sets counts:
# a client cannot add X-Forwarded-Ssl or X-Forwarded-Protocol that the proxy passes through.
forwarded_allow_ips = _forwarded_allow_ips(os.environ.get("STEWARD_TRUSTED_PROXIES", ""))
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}

# Logs to stdout/stderr (journald under systemd). One access line per request: peer (the
# proxy), the client chain it forwarded, request, status, bytes, milliseconds, user agent and
# the server's request id (the one in the audit chain).
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("STEWARD_LOG_LEVEL", "info").lower()
access_log_format = (
    '%(h)s "%({x-forwarded-for}i)s" %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s" %({x-request-id}o)s'
)
proc_name = "steward-web"


def when_ready(server) -> None:
    """The master loaded the app (preload_app): make sure no database connection made while
    loading is inherited by the workers, where several processes would share one socket."""
    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()
