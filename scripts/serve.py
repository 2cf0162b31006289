"""`make serve`: Steward in production on one machine, in the foreground.

Checks the environment, migrates the database, collects the static files, then runs the three
processes a deployment needs and watches them:

    web     gunicorn with deploy/gunicorn.conf.py (HOST, PORT, WEB_WORKERS, WEB_THREADS)
    worker  a Celery worker (WORKER_CONCURRENCY processes, default: one per CPU)
    beat    Celery beat, the scheduler (exactly one per deployment)

Ctrl-C (SIGINT) or SIGTERM stops all three gracefully (gunicorn finishes the requests in
progress, the worker its tasks); a second one kills them. If one of them dies, the others are
stopped and this exits non-zero. Each line a process prints is prefixed with its name.

On a real host the systemd units in deploy/ run the same three commands (docs/deployment.md).
SERVE_STOP_TIMEOUT (60) is how many seconds they get to stop before they are killed.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # config.settings, when started as scripts/serve.py
PYTHON = sys.executable
BIN = Path(sys.executable).parent  # the venv's bin/: gunicorn and celery beside python
# How long the processes get to finish their work after SIGTERM before they are killed.
STOP_TIMEOUT = float(os.environ.get("SERVE_STOP_TIMEOUT", "60"))
PR_SET_PDEATHSIG = 1

REQUIRED = ("DATABASE_URL", "REDIS_URL", "STEWARD_SECRET_KEY", "STEWARD_AUDIT_KEY")
_NEEDS = (
    "make serve needs DATABASE_URL (PostgreSQL, e.g. postgres://steward@127.0.0.1:5432/steward) "
    "and REDIS_URL (e.g. redis://127.0.0.1:6379/0; or STEWARD_BROKER_URL for a RabbitMQ "
    "broker, e.g. amqp://steward:secret@127.0.0.1:5672/steward); production settings also need "
    "STEWARD_SECRET_KEY and STEWARD_AUDIT_KEY (make each with: python3 -c 'import secrets; "
    "print(secrets.token_urlsafe(50))'). See docs/deployment.md"
)


def say(message: str) -> None:
    print(f"serve: {message}", file=sys.stderr, flush=True)


def environment_problem(env: dict[str, str]) -> str | None:
    """One line naming every required variable that is missing, or None."""
    missing = [name for name in REQUIRED if not env.get(name, "").strip()]
    # A RabbitMQ broker (STEWARD_BROKER_URL) carries the tasks without Redis; Redis then only
    # keeps results, which nothing in Steward waits for.
    if "REDIS_URL" in missing and env.get("STEWARD_BROKER_URL", "").strip():
        missing.remove("REDIS_URL")
    if "STEWARD_AUDIT_KEY" in missing and env.get("STEWARD_AUDIT_KEY_FILE", "").strip():
        missing.remove("STEWARD_AUDIT_KEY")
    return f"missing {', '.join(missing)}: {_NEEDS}" if missing else None


def settings_problem() -> str | None:
    """Load the production settings here, so a weak key or a malformed value is one line, not
    a traceback from three processes."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        from django.conf import settings

        production = settings.PRODUCTION
    except ImproperlyConfigured as exc:
        return str(exc)
    if not production:
        return "make serve runs production settings: unset STEWARD_DEBUG and STEWARD_DEMO"
    return None


try:
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl  # Linux
except (OSError, AttributeError):
    _PRCTL = None  # elsewhere Ctrl-C still stops everything through the supervisor


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM if the supervisor itself dies (even by SIGKILL),
    so no server is left holding the port."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    """One supervised process; its output goes to ours, each line prefixed with its name."""

    name: str
    command: list[str]
    process: subprocess.Popen | None = None
    reader: threading.Thread | None = field(default=None, repr=False)

    def start(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own fixed commands
            self.command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # Its own process group: Ctrl-C in the terminal reaches only the supervisor, which
            # then sends each process the one signal that stops it gracefully.
            process_group=0,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - started before any thread
        )

    def pump(self, width: int) -> None:
        """Copy the child's lines to our stdout with its name in front (in a thread)."""
        assert self.process is not None and self.process.stdout is not None
        prefix = f"{self.name:<{width}} | ".encode()
        for line in iter(self.process.stdout.readline, b""):
            sys.stdout.buffer.write(prefix + line)
            sys.stdout.buffer.flush()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, signum: int) -> None:
        if self.process is not None:
            self.process.send_signal(signum)  # nothing happens if it has already exited


def children_from_environment(env: dict[str, str], var_dir: Path) -> list[Child]:
    """The three commands, as the systemd units in deploy/systemd/ run them (a test holds the
    two to the same commands), with this venv's executables."""
    concurrency = env.get("WORKER_CONCURRENCY", "").strip()  # empty: Celery's, one per CPU
    if concurrency and not (concurrency.isdigit() and int(concurrency) >= 1):
        raise SystemExit(f"serve: WORKER_CONCURRENCY must be a whole number >= 1: {concurrency!r}")
    celery = [str(BIN / "celery"), "-A", "config"]
    log = ["--loglevel", "INFO"]
    return [
        Child("web", [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "config.wsgi"]),
        Child("worker", [*celery, "worker", *log, f"--concurrency={concurrency}"]),
        Child("beat", [*celery, "beat", *log, "--schedule", f"{var_dir}/celerybeat"]),
    ]


class Supervisor:
    """Starts the children, waits for a signal or a death, stops the rest."""

    def __init__(self, children: list[Child], *, stop_timeout: float = STOP_TIMEOUT) -> None:
        self.children = children
        self.stop_timeout = stop_timeout
        self.stop_requested = 0  # signals received

    def _on_signal(self, signum, frame) -> None:
        self.stop_requested += 1
        if self.stop_requested > 1:  # a second Ctrl-C: do not wait any longer
            for child in self.children:
                child.signal(signal.SIGKILL)

    def run(self, env: dict[str, str]) -> int:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        for child in self.children:
            child.start(env)
        width = max(len(child.name) for child in self.children)
        for child in self.children:
            child.reader = threading.Thread(target=child.pump, args=(width,), daemon=True)
            child.reader.start()
        say(
            "started "
            + ", ".join(f"{c.name} (pid {c.process.pid})" for c in self.children)
            + "; Ctrl-C stops all three"
        )
        dead = None
        while not self.stop_requested and dead is None:
            dead = next((c for c in self.children if not c.alive()), None)
            time.sleep(0.2)
        if dead is not None:
            code = dead.process.returncode
            say(f"{dead.name} exited with code {code}; stopping the others")
        else:
            say("stopping (once more to kill)")
        self.stop()
        if dead is None:
            return 0
        return code if code and code > 0 else 1

    def stop(self) -> None:
        for child in self.children:
            child.signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        while any(c.alive() for c in self.children) and time.monotonic() < deadline:
            time.sleep(0.1)
        for child in self.children:
            if child.alive():
                say(f"{child.name} did not stop within {self.stop_timeout:.0f}s: killing it")
                child.signal(signal.SIGKILL)
        for child in self.children:
            if child.process is not None:
                child.process.wait()
            if child.reader is not None:
                child.reader.join(timeout=5)
        say("stopped: " + ", ".join(f"{c.name} ({c.process.returncode})" for c in self.children))


def run_step(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env)  # noqa: S603
    if done.returncode != 0:
        say(f"manage.py {' '.join(args)} failed (exit {done.returncode})")
        raise SystemExit(done.returncode)


def main() -> int:
    env = dict(os.environ)
    problem = environment_problem(env)
    if problem is None:
        problem = settings_problem()
    if problem:
        say(problem)
        return 2
    from django.conf import settings

    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    env["PYTHONUNBUFFERED"] = "1"  # each child's lines come through as they are written
    run_step(env, "migrate", "--noinput")
    run_step(env, "collectstatic", "--noinput", "-v0")
    if not settings.TRUSTED_PROXIES:
        say(
            "note: STEWARD_TRUSTED_PROXIES is empty, so no request counts as HTTPS and every "
            "page redirects to https://; put a TLS proxy in front (deploy/nginx/steward.conf) "
            "and list its address there"
        )
    children = children_from_environment(env, Path(settings.VAR_DIR))
    return Supervisor(children).run(env)


if __name__ == "__main__":
    sys.exit(main())
