"""Benchmark of the registry API over HTTP: Steward under gunicorn against MLflow's own server,
the same workload from the same load generator, on the same PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/steward .venv/bin/python bench/registry.py \
        [--models 200] [--versions 10] [--gets 2000] [--lists 300] [--searches 300] \
        [--clients 8] [--web-workers 4] [--time-limit 900] [--skip-mlflow] [--keep] [--quick]

(``make bench-registry``.) DATABASE_URL names the PostgreSQL server; that database is never
touched. Steward gets a fresh database of its own, ``steward_bench_registry``, migrated, with a
team, a member who is its contributor and that member's API token (scopes read and write),
made through the services; it is then served as ``make serve`` serves it: gunicorn with
deploy/gunicorn.conf.py, ``--web-workers`` sync workers (or gthread workers with WEB_THREADS
threads each, when the environment sets it, as for make serve), production settings (see
bench/registry_servers.py for the environment, and for HTTPS: the load generator is the trusted
proxy). MLflow's tracking server (``mlflow server``, uvicorn with as many workers) runs from a
venv of its own, var/bench-mlflow-venv, created on first use (MLflow is not a dependency of
Steward), on a fresh ``mlflow_bench_registry``, without authentication. One server runs at a
time; each is stopped before the next starts. Without MLflow (not installable, or
``--skip-mlflow``) the reason is printed and Steward is measured alone.

The load generator is this process (bench/registry_load.py): ``--clients`` threads, each with
one persistent HTTP/1.1 connection (http.client; it reconnects when a server closes the
connection after a response, as gunicorn's sync workers do, and the connections opened are
counted). Steward's requests carry ``Authorization: Bearer <token>``. Each server is first left
to settle (its start-up work done, MLflow's job runner included), then warmed up untimed. The
workload, seeded, the same for both:

1. create ``--models`` models with ``--versions`` versions each (a client registers a model and
   then its versions in order; Steward: POST /api/v1/models/ and /api/v1/models/{name}/versions/,
   MLflow: registered-models/create and model-versions/create with a source); the database is
   then analyzed, untimed, as autovacuum would after such a load (a server with autovacuum off,
   like a test machine's, would otherwise plan on empty-table guesses: 4 s for MLflow's search);
2. ``--gets`` gets of a random version (Steward /api/v1/models/{name}/versions/{n}/, MLflow
   model-versions/get);
3. ``--gets`` gets of a random model (/api/v1/models/{name}/, registered-models/get);
4. ``--lists`` lists of a random model's versions (/api/v1/models/{name}/versions/, MLflow
   model-versions/search with ``name='{name}'``);
5. ``--searches`` searches by name prefix (/api/v1/models/?name__startswith={prefix}&page_size=N,
   MLflow registered-models/search with ``name LIKE '{prefix}%'`` and max_results=N). The names
   are split into families (``bench-a-0000``...) of at most 100, at least two, so that a prefix
   matches exactly one family: 2 x 100 with the defaults.

Every answer must be 2xx, every created version must have the expected number, every list and
search exactly the expected models; any error ends the benchmark with its list and a non-zero
status. A workload not done within ``--time-limit`` seconds is stopped and reported as "did not
finish in N s", with what it did in that time (the workloads after an unfinished creation are
skipped).

Printed per workload and server: requests/s, p50 and p99 latency, the CPU the server's process
tree used (from /proc, workers replaced meanwhile included), PostgreSQL's CPU (the whole server,
every database: other sessions of a shared machine included) and the load generator's own; then
the throughput ratio Steward/MLflow per workload. The last line is ``ratio steward/mlflow (worst
workload): X.XX`` (the smallest of those ratios), or ``... n/a`` without MLflow.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import dj_database_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import registry_servers as servers  # noqa: E402
from bench.registry_load import Call, Check, Outcome, load_run  # noqa: E402

FULL = {"models": 200, "versions": 10, "gets": 2000, "lists": 300, "searches": 300}
QUICK = {"models": 20, "versions": 3, "gets": 100, "lists": 30, "searches": 30}
FAMILY_SIZE = 100  # models per name prefix
WARM_UP_ROUNDS = 5  # per client, of each read
TARGET_RATIO = 1.5  # the target: Steward at least 1.5x MLflow's throughput
TARGET_GET_P99 = 0.100  # and p99 under 100 ms for gets
WORKLOADS = ("create", "version-get", "model-get", "versions-list", "prefix-search")
TITLES = {
    "create": "create models and versions",
    "version-get": "get a version",
    "model-get": "get a model",
    "versions-list": "list a model's versions",
    "prefix-search": "search models by prefix",
}


def parse_args() -> argparse.Namespace:
    sizes = QUICK if "--quick" in sys.argv[1:] else FULL
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"smaller sizes: {QUICK}")
    for name, default in sizes.items():
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn's and uvicorn's")
    parser.add_argument("--time-limit", type=float, default=900.0, help="seconds per workload")
    parser.add_argument("--seed", type=int, default=20250720)
    parser.add_argument("--skip-mlflow", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep both benchmark databases")
    args = parser.parse_args()
    sizes = (args.models, args.versions, args.gets, args.lists, args.searches, args.clients)
    if min(*sizes, args.web_workers) < 1:
        parser.error("every size must be at least 1")
    return args


# --- the plan: what is asked, the same for both servers --------------------------------------


@dataclass
class Plan:
    names: list[str]
    families: dict[str, int]  # prefix -> how many models it names
    versions: int
    version_gets: list[tuple[str, int]]
    model_gets: list[str]
    lists: list[str]
    searches: list[str]

    @property
    def page_size(self) -> int:
        return max(self.families.values())


def plan_make(args: argparse.Namespace) -> Plan:
    """Model names in families of at most FAMILY_SIZE (at least two families, so a prefix
    always leaves models out), and the seeded random picks of every read."""
    count = max(2, math.ceil(args.models / FAMILY_SIZE)) if args.models > 1 else 1
    prefixes = [f"bench-{chr(ord('a') + i)}-" for i in range(count)]
    names = [f"{prefixes[i % count]}{i // count:04d}" for i in range(args.models)]
    families = {p: sum(name.startswith(p) for name in names) for p in prefixes}
    rng = random.Random(args.seed)
    return Plan(
        names=names,
        families=families,
        versions=args.versions,
        version_gets=[(rng.choice(names), rng.randint(1, args.versions)) for _ in range(args.gets)],
        model_gets=[rng.choice(names) for _ in range(args.gets)],
        lists=[rng.choice(names) for _ in range(args.lists)],
        searches=[rng.choice(prefixes) for _ in range(args.searches)],
    )


# --- the two APIs -------------------------------------------------------------------------------


def post(path: str, payload: dict, check: Check | None = None) -> Call:
    return Call("POST", path, json.dumps(payload).encode(), check)


def get(path: str, check: Check | None = None) -> Call:
    return Call("GET", path, None, check)


def expect(what: str, actual, wanted) -> str | None:
    return None if actual == wanted else f"{what}: {actual!r}, expected {wanted!r}"


def artifact_uri(name: str, number: int) -> str:
    return f"s3://bench-registry/{name}/{number}/model.pkl"


def described(name: str) -> str:
    return f"Benchmark model {name}: scores one thing for the registry benchmark."


class StewardApi:
    root = "/api/v1/models/"

    def model_create(self, name: str) -> Call:
        body = {"name": name, "owner_team": servers.TEAM_SLUG, "description": described(name)}
        return post(self.root, body, lambda a: expect("name", a.get("name"), name))

    def version_create(self, name: str, number: int) -> Call:
        body = {
            "artifact_uri": artifact_uri(name, number),
            "artifact_sha256": hashlib.sha256(artifact_uri(name, number).encode()).hexdigest(),
            "framework": "sklearn",
        }
        check = lambda a: expect("version", a.get("version"), number)  # noqa: E731
        return post(f"{self.root}{name}/versions/", body, check)

    def version_get(self, name: str, number: int) -> Call:
        return get(f"{self.root}{name}/versions/{number}/")

    def model_get(self, name: str) -> Call:
        return get(f"{self.root}{name}/")

    def versions_list(self, name: str, count: int) -> Call:
        return get(f"{self.root}{name}/versions/", lambda a: page_check(a, count, name))

    def prefix_search(self, prefix: str, count: int, page_size: int) -> Call:
        path = f"{self.root}?name__startswith={prefix}&page_size={page_size}"
        return get(path, lambda a: page_check(a, count, prefix, "name"))


def page_check(answer: dict, count: int, prefix: str, key: str = "model") -> str | None:
    results = answer.get("results", [])
    if answer.get("count") != count or len(results) != count:
        return f"count {answer.get('count')!r} with {len(results)} rows, expected {count}"
    if not all(row.get(key, "").startswith(prefix) for row in results):
        return f"a row whose {key} does not start with {prefix!r}"
    return None


class MlflowApi:
    root = "/api/2.0/mlflow/"

    def model_create(self, name: str) -> Call:
        check = lambda a: expect("name", a.get("registered_model", {}).get("name"), name)  # noqa: E731
        body = {"name": name, "description": described(name)}
        return post(f"{self.root}registered-models/create", body, check)

    def version_create(self, name: str, number: int) -> Call:
        check = lambda a: expect("version", a.get("model_version", {}).get("version"), str(number))  # noqa: E731
        body = {"name": name, "source": artifact_uri(name, number)}
        return post(f"{self.root}model-versions/create", body, check)

    def version_get(self, name: str, number: int) -> Call:
        return get(f"{self.root}model-versions/get?name={name}&version={number}")

    def model_get(self, name: str) -> Call:
        return get(f"{self.root}registered-models/get?name={name}")

    def versions_list(self, name: str, count: int) -> Call:
        check = lambda a: rows_check(a.get("model_versions", []), count, name)  # noqa: E731
        return get(f"{self.root}model-versions/search?filter=name%3D%27{name}%27", check)

    def prefix_search(self, prefix: str, count: int, page_size: int) -> Call:
        check = lambda a: rows_check(a.get("registered_models", []), count, prefix)  # noqa: E731
        query = f"filter=name+LIKE+%27{prefix}%25%27&max_results={page_size}"
        return get(f"{self.root}registered-models/search?{query}", check)


def rows_check(rows: list[dict], count: int, prefix: str) -> str | None:
    if len(rows) != count:
        return f"{len(rows)} rows, expected {count}"
    if not all(row.get("name", "").startswith(prefix) for row in rows):
        return f"a row whose name does not start with {prefix!r}"
    return None


Api = StewardApi | MlflowApi


def workload_tasks(api: Api, plan: Plan, workload: str) -> list[list[Call]]:
    """The tasks of a workload: each a list of calls one client makes in order."""
    if workload == "create":
        return [
            [api.model_create(name)]
            + [api.version_create(name, number) for number in range(1, plan.versions + 1)]
            for name in plan.names
        ]
    if workload == "version-get":
        return [[api.version_get(name, number)] for name, number in plan.version_gets]
    if workload == "model-get":
        return [[api.model_get(name)] for name in plan.model_gets]
    if workload == "versions-list":
        return [[api.versions_list(name, plan.versions)] for name in plan.lists]
    return [
        [api.prefix_search(prefix, plan.families[prefix], plan.page_size)]
        for prefix in plan.searches
    ]


def warm_up_tasks(api: Api, clients: int) -> tuple[list[list[Call]], list[list[Call]]]:
    """A model of its own with one version, then every read a few times per client."""
    name = "warm-up-0000"
    reads = [
        api.version_get(name, 1),
        api.model_get(name),
        api.versions_list(name, 1),
        api.prefix_search("warm-up-", 1, 10),
    ]
    return [[api.model_create(name), api.version_create(name, 1)]], [
        [call] for call in reads * WARM_UP_ROUNDS * clients
    ]


# --- measuring ----------------------------------------------------------------------------------


def cpu_delta(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def measured_run(server, postmaster, headers, tasks, args) -> Outcome:
    """load_run, with the CPU the server, PostgreSQL and this process used meanwhile."""
    server_before, pg_before = server.cpu_seconds(), servers.tree_cpu_seconds(postmaster)
    client_before = time.process_time()
    outcome = load_run(server.port, headers, tasks, args.clients, args.time_limit)
    outcome.client_cpu = time.process_time() - client_before
    outcome.server_cpu = cpu_delta(server_before, server.cpu_seconds())
    outcome.postgres_cpu = cpu_delta(pg_before, servers.tree_cpu_seconds(postmaster))
    return outcome


# --- one server through the whole workload ------------------------------------------------------


class BenchmarkFailed(Exception):
    """Requests failed: the benchmark measured nothing worth printing as a result."""


def errors_raise(server: str, workload: str, outcome: Outcome) -> None:
    if outcome.errors:
        shown = "\n  ".join(outcome.errors[:8])
        raise BenchmarkFailed(
            f"{server}, {workload}: {len(outcome.errors)} of {outcome.planned} requests failed:"
            f"\n  {shown}"
        )


@dataclass
class Target:
    """One server as the load generator sees it."""

    server: servers.Server
    api: Api
    headers: dict[str, str]
    database_url: str  # its own database


def workloads_run(target: Target, plan: Plan, args, postmaster) -> dict:
    """Warm up, then every workload in turn, printed as it finishes. After the creation the
    database is analyzed (untimed), as autovacuum would do after such a load."""
    server, headers = target.server, target.headers
    for tasks in warm_up_tasks(target.api, args.clients):
        outcome = load_run(server.port, headers, tasks, args.clients, 120)
        errors_raise(server.name, "warm-up", outcome)
    outcomes: dict[str, Outcome | None] = {}
    for workload in WORKLOADS:
        if outcomes.get("create") is not None and not outcomes["create"].finished:
            outcomes[workload] = None
            print(f"  {TITLES[workload]:<27} skipped: the models were not all created")
            continue
        tasks = workload_tasks(target.api, plan, workload)
        outcome = measured_run(server, postmaster, headers, tasks, args)
        errors_raise(server.name, workload, outcome)
        outcomes[workload] = outcome
        print(f"  {TITLES[workload]:<27} {outcome_line(outcome, args.time_limit)}", flush=True)
        if workload == "create":
            servers.database_analyze(target.database_url)
    return outcomes


def seconds_text(value: float | None, requests: int) -> str:
    if value is None:
        return "n/a"
    return f"{value:6.1f} s ({1000 * value / max(requests, 1):5.1f} ms/req)"


def outcome_line(outcome: Outcome, limit: float) -> str:
    done = len(outcome.latencies)
    head = f"{done:>6,} req {outcome.rate:8.1f} req/s"
    if not outcome.finished:
        head = (
            f"did not finish in {limit:g} s: {done:,} of {outcome.planned:,} req, "
            f"{outcome.rate:.1f} req/s while it ran"
        )
    return (
        f"{head}  p50 {1000 * outcome.percentile(0.5):6.1f} ms  "
        f"p99 {1000 * outcome.percentile(0.99):6.1f} ms  "
        f"| CPU server {seconds_text(outcome.server_cpu, done)}  "
        f"postgres {seconds_text(outcome.postgres_cpu, done)}  "
        f"client {outcome.client_cpu:5.1f} s  | {outcome.connections:,} connections"
        + (f", {outcome.retries} reopened" if outcome.retries else "")
    )


def print_start(server) -> None:
    """Once the server is idle: its idle CPU and the machine's load (a shared machine)."""
    idle = server.settle()
    one, five, _ = os.getloadavg()
    print(
        f"  ready; idle server CPU {idle:.2f} s/s; load average {one:.2f} (1 min), "
        f"{five:.2f} (5 min) on {os.cpu_count()} CPUs"
    )


def steward_run(server_url: str, plan: Plan, args, postmaster) -> dict:
    setup = servers.steward_prepare(server_url)
    # WEB_THREADS reaches gunicorn's configuration through the environment, like make serve's.
    threads = os.environ.get("WEB_THREADS", "").strip() or "1"
    workers = "sync workers" if threads == "1" else f"gthread workers x {threads} threads"
    print(
        f"steward: gunicorn -c {servers.GUNICORN_CONF.relative_to(servers.ROOT)}, "
        f"{args.web_workers} {workers}, production settings, database "
        f"{servers.STEWARD_DATABASE}; "
        f"database connections: {setup.connections}"
    )
    headers = {
        "Authorization": setup.bearer,
        "X-Forwarded-Proto": "https",  # from the trusted proxy, as nginx would say it
        "Accept": "application/json",
        "Content-Type": "application/json",
    }
    server = servers.steward_start(setup, args.web_workers)
    try:
        server.wait_ready("/api/v1/models/?page_size=1", headers)
        print_start(server)
        target = Target(server, StewardApi(), headers, setup.database_url)
        return workloads_run(target, plan, args, postmaster)
    finally:
        server.stop()


def mlflow_run(server_url: str, plan: Plan, args, postmaster, version: str) -> dict:
    print(
        f"mlflow {version}: mlflow server (uvicorn), {args.web_workers} workers, no "
        f"authentication, database {servers.MLFLOW_DATABASE} (psycopg2)"
    )
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    server = servers.mlflow_start(server_url, args.web_workers)
    try:
        server.wait_ready("/health", {})
        print_start(server)
        database_url = servers.url_with_database(server_url, servers.MLFLOW_DATABASE)
        target = Target(server, MlflowApi(), headers, database_url)
        return workloads_run(target, plan, args, postmaster)
    finally:
        server.stop()


# --- the comparison -----------------------------------------------------------------------------


def mlflow_ready(args) -> str | None:
    """MLflow's version, or None with the reason printed."""
    if args.skip_mlflow:
        print("mlflow: skipped (--skip-mlflow)")
        return None
    try:
        return servers.mlflow_version()
    except (servers.MlflowUnavailable, OSError) as error:
        print(f"mlflow: unavailable ({error}); measuring Steward alone")
        return None


def comparison(steward: dict, mlflow: dict | None) -> float | None:
    """Per workload: both throughputs, their ratio and the targets; the worst ratio."""
    if not mlflow:
        return None
    print("\nsteward / mlflow, throughput (requests/s) and p99 (ms):")
    ratios = []
    for workload in WORKLOADS:
        ours, theirs = steward.get(workload), mlflow.get(workload)
        if ours is None or theirs is None:
            print(f"  {TITLES[workload]:<27} n/a (not measured on both)")
            continue
        ratio = ours.rate / theirs.rate
        ratios.append(ratio)
        notes = [] if ours.finished and theirs.finished else ["a server did not finish"]
        if ratio < TARGET_RATIO:
            notes.append(f"below the {TARGET_RATIO}x target")
        if workload.endswith("-get") and ours.percentile(0.99) >= TARGET_GET_P99:
            notes.append(f"p99 over {1000 * TARGET_GET_P99:.0f} ms")
        print(
            f"  {TITLES[workload]:<27} {ours.rate:8.1f} / {theirs.rate:8.1f}   ratio {ratio:5.2f}"
            f"   p99 {1000 * ours.percentile(0.99):6.1f} / {1000 * theirs.percentile(0.99):6.1f}"
            + (f"   ({'; '.join(notes)})" if notes else "")
        )
    return min(ratios) if ratios else None


def server_url_or_exit() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url or dj_database_url.parse(url)["ENGINE"] != "django.db.backends.postgresql":
        print(
            "bench/registry.py measures on PostgreSQL only: set DATABASE_URL=postgres://user@host:"
            "port/db (the server to use; the benchmark creates its own databases).",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return url


def main() -> int:
    args = parse_args()
    server_url = server_url_or_exit()
    plan = plan_make(args)
    families = ", ".join(f"{prefix}* {count}" for prefix, count in plan.families.items())
    print(
        f"workload: {args.models} models x {args.versions} versions, {args.gets} gets of each "
        f"kind, {args.lists} lists, {args.searches} searches (families: {families}); "
        f"{args.clients} keep-alive clients, time limit {args.time_limit:.0f} s per workload"
    )
    version = mlflow_ready(args)
    postmaster = servers.postmaster_pid(server_url)
    if postmaster is None:
        print("postgres CPU: n/a (the server's processes are not visible here)")
    print(
        f"PostgreSQL autovacuum: {servers.autovacuum_setting(server_url)}; each database is "
        "analyzed after the creation (untimed), as autovacuum would"
    )
    results: dict[str, dict] = {}
    try:
        results["steward"] = steward_run(server_url, plan, args, postmaster)
        if version is not None:
            try:
                results["mlflow"] = mlflow_run(server_url, plan, args, postmaster, version)
            except servers.ServerFailed as error:
                print(f"mlflow: could not be started ({error}); Steward alone")
    except (BenchmarkFailed, servers.ServerFailed) as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept databases {servers.STEWARD_DATABASE} and {servers.MLFLOW_DATABASE}")
        else:
            servers.databases_drop(server_url)
    worst = comparison(results["steward"], results.get("mlflow"))
    shown = "n/a" if worst is None else f"{worst:.2f}"
    print(f"ratio steward/mlflow (worst workload): {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
