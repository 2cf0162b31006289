"""The servers of bench/registry.py: Steward under gunicorn and MLflow's own server, each on a
fresh PostgreSQL database of its own, started in a process session of their own and stopped
by that session's id; and the CPU each used, read from /proc.

Steward is started as ``make serve`` starts it (``gunicorn -c deploy/gunicorn.conf.py
config.wsgi``) with production settings: neither STEWARD_DEBUG nor STEWARD_DEMO, a strong
STEWARD_SECRET_KEY and STEWARD_AUDIT_KEY generated for the run, REDIS_URL left out (the
registry's API enqueues no task). It listens on plain HTTP on 127.0.0.1; the load generator
stands where nginx would, as the trusted proxy (STEWARD_TRUSTED_PROXIES=127.0.0.1) that says
``X-Forwarded-Proto: https``, so the HTTPS redirect and secure cookies stay on.

MLflow is not a dependency of Steward: it runs from var/bench-mlflow-venv, created on first use
(``MLFLOW_REQUIREMENTS``). SQLAlchemy 2.1 reads ``postgresql://`` as psycopg 3, so the store URI
names the psycopg2 driver installed there.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from bench.lineage import database_recreate, django_setup, url_with_database

ROOT = Path(__file__).resolve().parent.parent
WORK_DIR = ROOT / "var" / "bench-registry"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
STEWARD_DATABASE = "steward_bench_registry"
MLFLOW_DATABASE = "mlflow_bench_registry"
MLFLOW_VENV = ROOT / "var" / "bench-mlflow-venv"
MLFLOW_REQUIREMENTS = ("mlflow>=3,<4", "psycopg2-binary")
TEAM_SLUG = "bench-registry"
START_SECONDS = {"steward": 90, "mlflow": 240}  # MLflow migrates its fresh database at start
STOP_SECONDS = 40
SETTLE_SECONDS = 120
IDLE_CPU_RATE = 0.05  # CPU seconds per second below which a server counts as idle
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- CPU from /proc ---------------------------------------------------------------------------


def proc_table() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds of the process and of its children it has reaped)."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # gone since the listing
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
        table[int(entry.name)] = (int(fields[1]), (utime + stime + cutime + cstime) / CLOCK_TICKS)
    return table


def tree_cpu_seconds(root: int | None) -> float | None:
    """CPU seconds used so far by ``root`` and every process below it. A child that exited and
    was reaped is in its parent's count, so the difference between two readings is the tree's
    work in between, even when gunicorn replaced a worker meanwhile."""
    if root is None:
        return None
    table = proc_table()
    if root not in table:
        return None
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += table[pid][1]
        todo.extend(children.get(pid, ()))
    return total


def postmaster_pid(server_url: str) -> int | None:
    """The PostgreSQL server's main process, when it runs on this machine (the parent of a
    backend of ours); None when /proc does not show it."""
    with psycopg.connect(url_with_database(server_url, "postgres"), autocommit=True) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    try:
        stat = Path(f"/proc/{backend}/stat").read_text()
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        name = Path(f"/proc/{parent}/comm").read_text().strip()
    except (OSError, ValueError):
        return None
    return parent if name.startswith("postgres") else None


# --- a server process ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerFailed(Exception):
    """A server did not start or answer; the message says why (and where its log is)."""


@dataclass
class Server:
    """A server process, started in a session of its own so that it and everything it forks
    (workers, MLflow's job runner) are stopped together by that session's id."""

    name: str
    port: int
    process: subprocess.Popen
    log: Path

    @classmethod
    def start(cls, name: str, command: list[str], env: dict, cwd: Path, port: int) -> Server:
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        log = WORK_DIR / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603 - fixed commands
                command,
                cwd=cwd,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return cls(name=name, port=port, process=process, log=log)

    def wait_ready(self, path: str, headers: dict[str, str]) -> None:
        """Until ``GET path`` answers 200; a server that exits or stays silent is a failure."""
        deadline = time.monotonic() + START_SECONDS[self.name]
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers)
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerFailed(f"{self.name} exited ({self.log_tail()}; log: {self.log})")
            try:
                with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except urllib.error.HTTPError as error:  # it answers, wrongly: no use waiting
                self.stop()
                raise ServerFailed(
                    f"{self.name} answers GET {path} with {error.code}: {error.read()[:300]!r} "
                    f"(log: {self.log})"
                ) from None
            except OSError as error:
                last = str(error)
            time.sleep(0.5)
        self.stop()
        raise ServerFailed(f"{self.name} not ready: {last} (log: {self.log})")

    def settle(self, timeout: float = SETTLE_SECONDS) -> float:
        """Wait until the process tree is idle (start-up done: workers' imports, MLflow's job
        runner starting its consumers), so that no start-up work is charged to a workload;
        returns the tree's CPU seconds per second in the last second waited."""
        deadline, quiet = time.monotonic() + timeout, 0
        last, rate = self.cpu_seconds() or 0.0, math.nan
        while time.monotonic() < deadline and quiet < 3:
            time.sleep(1.0)
            now = self.cpu_seconds() or 0.0
            rate, last = now - last, now
            quiet = quiet + 1 if rate < IDLE_CPU_RATE else 0
        return rate

    def log_tail(self, lines: int = 3) -> str:
        text = self.log.read_text(errors="replace").strip().splitlines()
        return " | ".join(text[-lines:]) or "no output"

    def cpu_seconds(self) -> float | None:
        return tree_cpu_seconds(self.process.pid)

    def stop(self) -> None:
        """SIGTERM to the session, then SIGKILL to what is left of it after STOP_SECONDS."""
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        while time.monotonic() < deadline and self._alive():
            time.sleep(0.2)
        if self._alive():
            self._signal(signal.SIGKILL)
        self.process.wait(timeout=STOP_SECONDS)

    def _signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def _alive(self) -> bool:
        self.process.poll()
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True


# --- Steward ------------------------------------------------------------------------------------


@dataclass
class StewardSetup:
    database_url: str
    bearer: str
    env: dict[str, str]
    connections: str  # how the workers hold their database connections


def production_env(database_url: str) -> dict[str, str]:
    """The environment ``make serve`` gives Steward: production (no debug, no demo), strong
    keys of this run, the benchmark's database, no Redis."""
    env = {k: v for k, v in os.environ.items() if k not in ("STEWARD_DEBUG", "STEWARD_DEMO")}
    env.pop("REDIS_URL", None)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        STEWARD_SECRET_KEY=secrets.token_urlsafe(50),
        STEWARD_AUDIT_KEY=secrets.token_urlsafe(50),
        STEWARD_TRUSTED_PROXIES="127.0.0.1",
    )
    return env


def steward_prepare(server_url: str) -> StewardSetup:
    """Fresh, migrated database; through the services a team, a member who is its contributor,
    and that member's API token (read and write: register, then read back). In this process,
    with the environment the server will get."""
    database_url = url_with_database(server_url, STEWARD_DATABASE)
    database_recreate(server_url, STEWARD_DATABASE)
    env = production_env(database_url)
    os.environ.update(env)
    for name in ("STEWARD_DEBUG", "STEWARD_DEMO", "REDIS_URL"):
        os.environ.pop(name, None)
    django_setup(database_url)

    from django.conf import settings
    from django.db import connections

    from accounts import services as accounts
    from accounts.choices import RoleName, TokenScope

    team = accounts.team_create(name="Bench registry", slug=TEAM_SLUG)
    user = accounts.user_create(actor=None, username="bench-ci")
    accounts.team_add_member(team=team, user=user)
    accounts.role_assign(user=user, role=RoleName.CONTRIBUTOR, team=team)
    _, secret = accounts.token_create(
        actor=user, name="bench registry CI", scopes=[TokenScope.READ, TokenScope.WRITE]
    )
    database = settings.DATABASES["default"]
    connections.close_all()
    return StewardSetup(database_url, f"Bearer {secret}", env, connections_described(database))


def connections_described(database: dict) -> str:
    if (database.get("OPTIONS") or {}).get("pool"):
        return "psycopg pool"
    age = database.get("CONN_MAX_AGE") or 0
    if age == 0:
        return "a new connection per request (CONN_MAX_AGE=0)"
    health = ", health checks" if database.get("CONN_HEALTH_CHECKS") else ""
    return f"persistent (CONN_MAX_AGE={age}{health})"


def steward_start(setup: StewardSetup, web_workers: int) -> Server:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    if not gunicorn.exists():
        raise ServerFailed(f"{gunicorn} is missing: install Steward's dependencies (make deps)")
    if not GUNICORN_CONF.exists():
        raise ServerFailed(f"{GUNICORN_CONF.relative_to(ROOT)} is missing")
    port = free_port()
    env = {**setup.env, "HOST": "127.0.0.1", "PORT": str(port), "WEB_WORKERS": str(web_workers)}
    command = [str(gunicorn), "-c", str(GUNICORN_CONF), "config.wsgi"]
    return Server.start("steward", command, env, ROOT, port)


# --- MLflow, in its own venv --------------------------------------------------------------------


class MlflowUnavailable(Exception):
    """MLflow could not be installed; the message says why."""


def mlflow_version() -> str:
    """MLflow's version in the benchmark venv, creating the venv and installing it if needed."""
    python = MLFLOW_VENV / "bin" / "python"
    probe = [str(python), "-c", "import mlflow, psycopg2; print(mlflow.__version__)"]
    if python.exists():
        done = subprocess.run(probe, capture_output=True, text=True, timeout=300)  # noqa: S603
        if done.returncode == 0:
            return done.stdout.strip()
    print(f"installing {' '.join(MLFLOW_REQUIREMENTS)} into {MLFLOW_VENV} ...", flush=True)
    for step in (
        [sys.executable, "-m", "venv", str(MLFLOW_VENV)],
        [str(python), "-m", "pip", "install", "-q", *MLFLOW_REQUIREMENTS],
        probe,
    ):
        done = subprocess.run(step, capture_output=True, text=True, timeout=1800)  # noqa: S603
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise MlflowUnavailable(f"`{' '.join(step[:4])} ...` failed: {' | '.join(tail)}")
    return done.stdout.strip()


def mlflow_start(server_url: str, workers: int) -> Server:
    """MLflow's tracking server (uvicorn, ``workers`` processes) on a fresh database."""
    database_recreate(server_url, MLFLOW_DATABASE)
    store = urlsplit(url_with_database(server_url, MLFLOW_DATABASE))
    store_uri = store._replace(scheme="postgresql+psycopg2").geturl()
    folder = WORK_DIR / "mlflow"
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [
        str(MLFLOW_VENV / "bin" / "mlflow"),
        "server",
        "--backend-store-uri",
        store_uri,
        "--artifacts-destination",
        str(folder / "artifacts"),
        "--workers",
        str(workers),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    return Server.start("mlflow", command, env, folder, port)


def autovacuum_setting(server_url: str) -> str:
    with psycopg.connect(url_with_database(server_url, "postgres"), autocommit=True) as conn:
        return conn.execute("SHOW autovacuum").fetchone()[0]


def database_analyze(database_url: str) -> None:
    """Statistics of every table, as autovacuum gathers them after a load. Without them (a
    server with autovacuum off, or one not yet come round) the planner takes the freshly
    filled tables for empty: MLflow's prefix search then took 4 s instead of 40 ms."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ANALYZE")


def databases_drop(server_url: str) -> None:
    for name in (STEWARD_DATABASE, MLFLOW_DATABASE):
        database_recreate(server_url, name, create=False)
