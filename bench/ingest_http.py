"""The HTTP path of bench/ingest.py: Steward served as ``make serve`` serves it, and the
concurrent COPY that the HTTP figure is compared with.

The server is bench/registry_servers.py's: ``gunicorn -c deploy/gunicorn.conf.py config.wsgi``
with production settings (``production_env``: no debug, no demo, keys of this run, no Redis;
ingestion enqueues no task), on the benchmark's own database, started in a session of its own
and stopped by it. Its workers are as many as the configuration gives (``WEB_WORKERS``, else
2 x CPUs + 1), unless ``--web-workers`` says otherwise. The load generator is
bench/registry_load.py's: ``--clients`` threads, each with one persistent HTTP/1.1 connection
(http.client), reopened when gunicorn's sync workers close it after a response; this process
stands where nginx would, the trusted proxy that says ``X-Forwarded-Proto: https``.
"""

from __future__ import annotations

import runpy
import threading
import time
from dataclasses import dataclass

import psycopg

from bench import registry_servers as servers
from bench.registry_load import Call, load_run

READY_PATH = "/login/"  # answers 200 without a token: the gateway's token may not read


def configured_workers() -> int:
    """The worker count ``make serve`` would start here: deploy/gunicorn.conf.py's own answer
    (WEB_WORKERS from the environment, else its default)."""
    return runpy.run_path(str(servers.GUNICORN_CONF))["workers"]


def request_headers(bearer: str) -> dict[str, str]:
    return {
        "Authorization": bearer,
        "X-Forwarded-Proto": "https",  # from the trusted proxy, as nginx would say it
        "Accept": "application/json",
        "Content-Type": "application/json",
    }


def accepted_check(expected: int):
    """The answer of a batch must say every record was accepted."""

    def check(answer: dict) -> str | None:
        counts = (answer.get("accepted"), answer.get("duplicates"), answer.get("rejected"))
        if counts != (expected, 0, 0):
            return f"accepted/duplicates/rejected {counts}, not ({expected}, 0, 0)"
        return None

    return check


@dataclass
class CpuTally:
    """CPU seconds one path cost, over all rounds: the gunicorn workers' (HTTP path only), this
    process's (the load generator, the in-process path, the COPY client) and PostgreSQL's (the
    whole server: on a shared machine, other sessions' too)."""

    rows: int = 0
    server: float = 0.0
    here: float = 0.0
    postgres: float = 0.0

    def line(self, name: str) -> str:
        per = 1000 / max(self.rows, 1)
        server = f"gunicorn workers {self.server * per:.3f} s, " if name == "HTTP" else ""
        return (
            f"  {name:<11} {server}this process {self.here * per:.3f} s, "
            f"PostgreSQL {self.postgres * per:.3f} s"
        )


class CpuMeter:
    """Readings of the CPU used by the server (if any), this process and PostgreSQL."""

    def __init__(self, server_url: str, server: servers.Server | None = None) -> None:
        self.postmaster = servers.postmaster_pid(server_url)
        self.server = server

    def reading(self) -> tuple[float, float, float]:
        server = self.server.cpu_seconds() if self.server else None
        postgres = servers.tree_cpu_seconds(self.postmaster)
        return server or 0.0, time.process_time(), postgres or 0.0

    def add(self, tally: CpuTally, rows: int, before: tuple, after: tuple) -> None:
        tally.rows += rows
        tally.server += after[0] - before[0]
        tally.here += after[1] - before[1]
        tally.postgres += after[2] - before[2]


class HttpPath:
    """gunicorn serving the benchmark's database, and the load that POSTs the batches."""

    def __init__(self, bench_url: str, server_url: str, bearer: str, env: dict, args) -> None:
        from django.conf import settings

        self.args, self.limit = args, args.time_limit
        self.headers = request_headers(bearer)
        setup = servers.StewardSetup(
            database_url=bench_url,
            bearer=bearer,
            env=env,  # production_env(bench_url), the one this process runs with
            connections=servers.connections_described(settings.DATABASES["default"]),
        )
        self.workers = args.web_workers or configured_workers()
        self.described = (
            f"gunicorn -c {servers.GUNICORN_CONF.relative_to(servers.ROOT)} config.wsgi, "
            f"{self.workers} workers, production settings; database connections: "
            f"{setup.connections}; {args.clients} clients"
        )
        self.server = servers.steward_start(setup, self.workers)
        self.connections = 0

    def wait_ready(self) -> None:
        self.server.wait_ready(READY_PATH, {"X-Forwarded-Proto": "https"})
        self.server.settle()

    def ingest(self, url: str, bodies: list[bytes], sizes: list[int]) -> int:
        """POST every body to ``url`` from ``--clients`` concurrent clients; the rows accepted,
        refusing any error or any answer that did not accept the whole batch."""
        tasks = [
            [Call("POST", url, body, accepted_check(size))]
            for body, size in zip(bodies, sizes, strict=True)
        ]
        outcome = load_run(self.server.port, self.headers, tasks, self.args.clients, self.limit)
        if outcome.errors or not outcome.finished:
            problems = "\n  ".join(outcome.errors[:5]) or f"not done in {self.limit} s"
            raise SystemExit(f"HTTP path: {len(outcome.errors)} requests failed:\n  {problems}")
        self.connections += outcome.connections
        return sum(sizes)

    def stop(self) -> None:
        self.server.stop()


def copy_concurrent(
    connections: list[psycopg.Connection], deployment, batches: list[list[tuple]], copy_ingest
) -> int:
    """The batches COPY'd over ``connections`` at once, dealt out round robin, one thread per
    connection: raw COPY under the same concurrency as the HTTP clients."""
    shares = [batches[index :: len(connections)] for index in range(len(connections))]
    written = [0] * len(connections)
    failures: list[BaseException] = []

    def run(index: int) -> None:
        try:
            written[index] = copy_ingest(connections[index], deployment, shares[index])
        except BaseException as error:  # noqa: BLE001 - reported by the caller
            failures.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(connections))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"concurrent COPY failed: {failures[0]!r}")
    return sum(written)
