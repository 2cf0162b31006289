"""Benchmark of prediction ingestion through the API against a raw COPY of the same rows, on
PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/steward .venv/bin/python bench/ingest.py

DATABASE_URL names the server (and the credentials); the benchmark never touches that database.
Like bench/lineage.py it creates its own, ``steward_bench_ingest`` (dropped first if it exists,
and again at the end unless ``--keep``; not lineage's ``steward_bench``, so that the two can run
at the same time), and migrates it. Through the services it then sets up what a serving gateway
meets: a team, a model builder and a deployer (contributor and manager of the team), a
registered model whose version declares an input schema of 10 numeric and 2 categorical columns
and an output schema (a label with its labels, a vector of 2 probabilities), and the gateway's
service account: contributor in the team, with an API token of the write scope only.

It generates ``--records`` seeded, realistic prediction records (a UUID request id, an ISO
predicted_at within the last hour, the inputs, the outputs, a latency and two protected
attributes) and serialises them once, outside any timing, twice over: as the JSON bodies of
``--batch`` records a gateway would POST, and as the rows COPY wants (JSON text for the JSON
columns, ISO text for the times).

Each of ``--rounds`` rounds deploys fresh staging deployments of the version (no workflow
gate in staging), one per path, and times the paths in turn, the order rotating from round to
round so that the table each writes into has grown alike on average. ``--mode`` picks the API
paths (``both`` by default):

* HTTP (``http``): Steward served as ``make serve`` serves it, gunicorn with
  deploy/gunicorn.conf.py, production settings, as many workers as that configuration gives
  (``--web-workers`` to change), started once on the benchmark's database (bench/ingest_http.py,
  over bench/registry_servers.py). ``--clients`` concurrent clients (4), each with a persistent
  HTTP/1.1 connection (bench/registry_load.py; gunicorn's sync workers close it after each
  response, and it is reopened), POST every body to /api/v1/deployments/{name}/predictions/ with
  ``Authorization: Bearer <token>``; every answer must accept its whole batch.
* in-process (``client``): the same bodies through ``django.test.Client`` in this process, one
  after the other: the whole WSGI handler, middleware, DRF authentication, permissions and
  parser, the view and the service, minus the socket and HTTP parsing. The Client keeps one
  database connection for all requests, as a server with STEWARD_DB_CONN_MAX_AGE > 0 does.
* COPY: the same rows COPY'd with psycopg into monitoring_prediction (the columns of
  ``monitoring.services.ingestion.COPY_SQL``), one transaction per batch, over one connection;
  with the HTTP path also over ``--clients`` connections at once (COPY xN), the batches dealt
  out between them.

Rows/s is rows / wall seconds of the round; every record must be accepted, and is counted in
the table afterwards. A small untimed batch on each path first warms caches and connections.
The figures printed are medians over the rounds, with the CPU each path cost per 1,000 rows:
the gunicorn workers', this process's and PostgreSQL's (the whole server's: on a shared
machine, other sessions' too). The in-process ratio is the Client's rows/s over the
one-connection COPY's (target 0.5); the HTTP ratio is HTTP rows/s over the better of the two
COPY medians (target 0.7): raw COPY at its best on this machine. Against one COPY connection
alone, concurrent HTTP clients would be compared with a single stream that leaves a CPU idle
while it waits; that ratio is printed too, for reference. The last line is ``ratio api/copy:
X.XX``, the HTTP ratio (the one a gateway meets; the in-process ratio without the HTTP path),
and the line before it the in-process ratio.
``--profile`` then runs one more batch through the Client under cProfile, prints the top
entries by cumulative and by own time, and the SQL statements the request ran.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import json
import os
import pstats
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import dj_database_url
import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest_http import CpuMeter, CpuTally, HttpPath, copy_concurrent  # noqa: E402
from bench.lineage import database_recreate, django_setup, url_with_database  # noqa: E402
from bench.registry_servers import production_env  # noqa: E402

if TYPE_CHECKING:
    from django.test import Client

    from accounts.models import User
    from registry.models import ModelVersion

BENCH_DATABASE = "steward_bench_ingest"
TARGET_RATIO = 0.5  # in-process (django.test.Client) against one COPY connection
TARGET_HTTP_RATIO = 0.7  # over HTTP through gunicorn against the better COPY
MODES = ("both", "http", "client")
WARM_UP_RECORDS = 500
PROFILE_LINES = 15
# Profile entries holding more than this share of the request are its envelope, not a cause.
ENVELOPE = 0.95
# A caller whose callee holds this share of its time is a pass-through.
PASS_THROUGH = 0.95
MODEL_NAME = "bench-churn"

Draw = Callable[[np.random.Generator, int], np.ndarray]

# (name, schema type, draw): the ten numeric inputs of a churn model, with plausible shapes.
NUMERIC_INPUTS: tuple[tuple[str, str, Draw], ...] = (
    ("income", "float64", lambda g, n: np.maximum(g.normal(52_000, 18_000, n), 0).round(2)),
    ("age", "int64", lambda g, n: np.clip(g.normal(41, 12, n), 18, 95).astype(int)),
    ("tenure_months", "int64", lambda g, n: g.exponential(30, n).astype(int)),
    ("balance", "float64", lambda g, n: g.lognormal(8, 1.2, n).round(2)),
    ("num_products", "int64", lambda g, n: g.choice([1, 1, 1, 2, 2, 3, 4], n)),
    ("credit_score", "int64", lambda g, n: np.clip(g.normal(660, 80, n), 300, 850).astype(int)),
    ("utilisation", "float64", lambda g, n: g.beta(2, 5, n).round(4)),
    ("late_payments_12m", "int64", lambda g, n: np.minimum(g.exponential(0.7, n), 12).astype(int)),
    ("days_since_login", "float64", lambda g, n: g.exponential(9, n).round(3)),
    ("avg_txn_amount", "float64", lambda g, n: g.lognormal(3.8, 0.9, n).round(2)),
)
CATEGORICAL_INPUTS = {
    "segment": ("retail", "premium", "business", "student"),
    "region": ("north", "south", "east", "west", "central"),
}
INPUT_SCHEMA = {
    "type": "tabular",
    "columns": [{"name": name, "type": kind} for name, kind, _ in NUMERIC_INPUTS]
    + [{"name": name, "type": "string"} for name in CATEGORICAL_INPUTS],
}
OUTPUT_SCHEMA = {
    "columns": [
        {"name": "label", "type": "int64", "labels": ["stays", "churns"]},
        {"name": "probabilities", "type": "float64", "shape": [2]},
    ]
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5_000, help="records per request / COPY")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20250301)
    parser.add_argument("--mode", choices=MODES, default="both", help="API paths to time")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients")
    parser.add_argument("--web-workers", type=int, help="gunicorn workers (default: the config's)")
    parser.add_argument("--time-limit", type=float, default=900, help="seconds per HTTP run")
    parser.add_argument("--profile", action="store_true", help="cProfile one batch via the API")
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DATABASE} database")
    args = parser.parse_args()
    if args.clients < 1 or (args.web_workers is not None and args.web_workers < 1):
        parser.error("--clients and --web-workers must be at least 1")
    return args


# --- who and what the gateway logs for ----------------------------------------------------------


@dataclass
class Fixture:
    version: ModelVersion
    deployer: User  # manager of the team: deploys
    bearer: str  # the gateway's Authorization header


def fixture_create() -> Fixture:
    """Team, people, model, version and the gateway's token, all made through the services, as
    an administrator would (actor None: the system)."""
    from accounts import services as accounts
    from accounts.choices import RoleName, TokenScope
    from registry.services.catalogue import model_version_register, registered_model_create

    team = accounts.team_create(name="Bench ingestion", slug="bench-ingestion")
    people = {}
    for username, role in (
        ("bench-builder", RoleName.CONTRIBUTOR),
        ("bench-deployer", RoleName.MANAGER),
        ("bench-gateway", RoleName.GATEWAY),
    ):
        people[username] = accounts.user_create(actor=None, username=username)
        accounts.role_assign(user=people[username], role=role, team=team)
    builder = people["bench-builder"]
    model = registered_model_create(actor=builder, name=MODEL_NAME, owner_team=team)
    version = model_version_register(
        actor=builder,
        registered_model=model,
        artifact_uri="s3://bench/churn/model.pkl",
        artifact_sha256="0" * 64,
        framework="sklearn",
        input_schema=INPUT_SCHEMA,
        output_schema=OUTPUT_SCHEMA,
    )
    _, secret = accounts.token_create(
        actor=people["bench-gateway"], name="bench serving gateway", scopes=[TokenScope.WRITE]
    )
    return Fixture(version=version, deployer=people["bench-deployer"], bearer=f"Bearer {secret}")


def deployment_fresh(fixture: Fixture, name: str):
    from monitoring.services.deployments import deployment_create

    return deployment_create(
        actor=fixture.deployer,
        version=fixture.version,
        name=name,
        environment="staging",
        mode="live",
    )


# --- the records --------------------------------------------------------------------------------


def churn_probability(columns: dict[str, np.ndarray]) -> np.ndarray:
    logit = (
        -1.2
        + 0.9 * columns["late_payments_12m"]
        + 2.5 * columns["utilisation"]
        - 0.02 * columns["tenure_months"]
        + 0.03 * columns["days_since_login"]
    )
    return (1 / (1 + np.exp(-logit))).round(6)


def inputs_make(rng: np.random.Generator, n: int) -> tuple[list[dict], list[float]]:
    """``n`` input objects (JSON-ready Python values) and the churn probability of each."""
    arrays = {name: draw(rng, n) for name, _, draw in NUMERIC_INPUTS}
    churn = churn_probability(arrays).tolist()
    columns = {name: values.tolist() for name, values in arrays.items()}
    columns.update({name: rng.choice(v, n).tolist() for name, v in CATEGORICAL_INPUTS.items()})
    rows = zip(*columns.values(), strict=True)
    return [dict(zip(columns, row, strict=True)) for row in rows], churn


def records_make(rng: np.random.Generator, moments: list[datetime]) -> list[dict]:
    """Predictions as a serving gateway logs them, one per moment."""
    n = len(moments)
    inputs, churn = inputs_make(rng, n)
    ids = rng.bytes(16 * n)
    latency = rng.lognormal(2.3, 0.5, n).round(3).tolist()
    sex = rng.choice(("female", "male"), n).tolist()
    return [
        {
            "request_id": str(uuid.UUID(bytes=ids[16 * i : 16 * i + 16], version=4)),
            "predicted_at": moments[i].isoformat(),
            "inputs": inputs[i],
            "outputs": {
                "label": int(churn[i] >= 0.5),
                "probabilities": [round(1 - churn[i], 6), churn[i]],
            },
            "latency_ms": latency[i],
            "protected": {"sex": sex[i], "age_band": age_band(inputs[i]["age"])},
        }
        for i in range(n)
    ]


def age_band(age: int) -> str:
    return "<30" if age < 30 else "30-59" if age < 60 else "60+"


def copy_row(record: dict, vector: bytes | None) -> tuple:
    """The record as COPY takes it, after the deployment id and before received_at: request id,
    predicted_at (ISO text), inputs, outputs (JSON text), latency, protected (JSON text), and the
    float64 vector of its numeric inputs that the service stores beside them."""
    return (
        record["request_id"],
        record["predicted_at"],
        json.dumps(record["inputs"], ensure_ascii=False),
        json.dumps(record["outputs"], ensure_ascii=False),
        record["latency_ms"],
        json.dumps(record["protected"], ensure_ascii=False),
        vector,
    )


def batches_make(
    rng: np.random.Generator, records: int, batch: int
) -> tuple[list[bytes], list[list[tuple]]]:
    """The request bodies and the COPY rows of the same records, batch by batch, predicted over
    the last hour."""
    from monitoring.schema import numeric_layout, numeric_vectors, schema_columns

    layout = numeric_layout(schema_columns(INPUT_SCHEMA))
    step = timedelta(hours=1) / records
    start = datetime.now(UTC) - timedelta(hours=1, minutes=1)
    bodies, rows = [], []
    for first in range(0, records, batch):
        last = min(first + batch, records)
        made = records_make(rng, [start + index * step for index in range(first, last)])
        bodies.append(json.dumps({"records": made}, ensure_ascii=False).encode())
        vectors = numeric_vectors(layout, [record["inputs"] for record in made])
        rows.append([copy_row(r, v) for r, v in zip(made, vectors, strict=True)])
    return bodies, rows


# --- the two paths ------------------------------------------------------------------------------


def api_url(deployment) -> str:
    return f"/api/v1/deployments/{deployment.name}/predictions/"


def api_post(client, url: str, body: bytes, bearer: str) -> int:
    """POST one batch and return how many records the API accepted, refusing any other answer."""
    # secure=True: production settings redirect plain http to https, as behind a TLS proxy.
    response = client.post(
        url, data=body, content_type="application/json", HTTP_AUTHORIZATION=bearer, secure=True
    )
    if response.status_code != 200:
        raise SystemExit(f"POST {url}: {response.status_code} {response.content[:500]!r}")
    result = response.json()
    if result["rejected"] or result["duplicates"]:
        raise SystemExit(f"POST {url}: not every record accepted: {result['errors'][:3]}")
    return result["accepted"]


def api_ingest(client, deployment, bodies: list[bytes], bearer: str) -> int:
    url = api_url(deployment)
    return sum(api_post(client, url, body, bearer) for body in bodies)


def copy_ingest(conn: psycopg.Connection, deployment, batches: list[list[tuple]]) -> int:
    from monitoring.services.ingestion import COPY_SQL

    written = 0
    for rows in batches:
        received_at = datetime.now(UTC)
        with conn.transaction(), conn.cursor() as cursor, cursor.copy(COPY_SQL) as copy:
            for request_id, predicted_at, inputs, outputs, latency, protected, vector in rows:
                copy.write_row(
                    (
                        deployment.pk,
                        request_id,
                        predicted_at,
                        received_at,
                        inputs,
                        outputs,
                        latency,
                        protected,
                        vector,
                    )
                )
        written += len(rows)
    return written


def rows_logged(deployment) -> int:
    from monitoring.models import Prediction

    return Prediction.objects.filter(deployment=deployment).count()


def timed(call: Callable[[], int], expected: int, deployment) -> float:
    """Rows per second of ``call``, which must write ``expected`` rows for ``deployment``."""
    started = time.perf_counter()
    written = call()
    elapsed = time.perf_counter() - started
    logged = rows_logged(deployment)
    if written != expected or logged != expected:
        raise SystemExit(f"{deployment.name}: {written} written, {logged} logged of {expected}")
    return expected / elapsed


# --- the benchmark ------------------------------------------------------------------------------


@dataclass
class Paths:
    """The paths timed in each round and what each writes through."""

    fixture: Fixture
    client: Client | None  # in-process: django.test.Client
    http: HttpPath | None  # gunicorn, over HTTP
    conn: psycopg.Connection  # COPY, one connection
    conns: list[psycopg.Connection]  # COPY xN, with the HTTP path only
    meter: CpuMeter
    cpu: dict[str, CpuTally] = field(default_factory=dict)

    def names(self) -> list[str]:
        names = ["HTTP"] if self.http else []
        names += ["in-process"] if self.client else []
        return [*names, "COPY"] + ([f"COPY x{len(self.conns)}"] if self.conns else [])

    def run(self, name: str, target, bodies: list[bytes], batches: list[list[tuple]]) -> int:
        if name == "HTTP":
            return self.http.ingest(api_url(target), bodies, list(map(len, batches)))
        if name == "in-process":
            return api_ingest(self.client, target, bodies, self.fixture.bearer)
        if name == "COPY":
            return copy_ingest(self.conn, target, batches)
        return copy_concurrent(self.conns, target, batches, copy_ingest)


def slug(name: str) -> str:
    return name.lower().replace(" ", "")


def warm_up(paths: Paths, rng: np.random.Generator) -> None:
    """A small untimed load on each path first: imports, URL resolver, caches, connections; on
    the HTTP path small batches, enough to reach every worker."""
    for name in paths.names():
        batch = WARM_UP_RECORDS
        if name == "HTTP":
            batch = max(1, WARM_UP_RECORDS // (4 * paths.http.workers))
        bodies, batches = batches_make(rng, WARM_UP_RECORDS, batch)
        target = deployment_fresh(paths.fixture, f"bench-warm-{slug(name)}")
        paths.run(name, target, bodies, batches)


def round_run(round_no: int, args, paths: Paths, bodies, batches) -> dict[str, float]:
    """Rows/s of each path in one round, each into a fresh deployment. The order rotates from
    round to round, so that the table each writes into has grown alike on average."""
    names = paths.names()
    shift = (round_no - 1) % len(names)
    order = names[shift:] + names[:shift]
    rates = {}
    for name in order:
        target = deployment_fresh(paths.fixture, f"bench-{slug(name)}-{round_no}")
        before = paths.meter.reading()
        rates[name] = timed(
            lambda name=name, target=target: paths.run(name, target, bodies, batches),
            args.records,
            target,
        )
        tally = paths.cpu.setdefault(name, CpuTally())
        paths.meter.add(tally, args.records, before, paths.meter.reading())
    shown = "   ".join(f"{name} {rates[name]:>7,.0f}" for name in names)
    print(f"round {round_no}: {shown} rows/s   ({order[0]} first)", flush=True)
    return rates


def pass_through(stats: dict) -> set:
    """Functions that spend nearly all their time in one callee (wrappers, properties, the
    chain from ``request.data`` down to the parser): the callee stands for them."""
    skipped = set()
    for function, (*_, callers) in stats.items():
        for caller, (*_, cumulative) in callers.items():
            if (
                caller != function
                and caller in stats
                and cumulative >= PASS_THROUGH * stats[caller][3]
            ):
                skipped.add(caller)
    return skipped


def profile_one_batch(fixture: Fixture, client, body: bytes) -> None:
    """cProfile one batch through the Client, into a fresh deployment, and print where the time
    goes: by cumulative time below the request's envelope (the handler, middleware and view
    frames that each hold nearly all of it) without pass-through frames, then by own time."""
    url = api_url(deployment_fresh(fixture, "bench-profile"))
    profiler = cProfile.Profile()
    profiler.runcall(api_post, client, url, body, fixture.bearer)
    stats = pstats.Stats(profiler).stats
    total = max(entry[3] for entry in stats.values())
    print(f"\nprofile of one batch of the API path ({total:.2f} s under cProfile):")
    skipped = pass_through(stats)
    for title, column in (("cumulative", 3), ("own time", 2)):
        shown = {
            k: v
            for k, v in stats.items()
            if column == 2 or (v[3] < ENVELOPE * total and k not in skipped)
        }
        ranked = sorted(shown.items(), key=lambda item: item[1][column], reverse=True)
        print(f"top {PROFILE_LINES} by {title}:")
        print(f"  {'calls':>9} {'own s':>7} {'cum s':>7} {'cum %':>6}  function")
        for (path, line, name), (_, calls, own, cum, _) in ranked[:PROFILE_LINES]:
            where = f"{Path(path).parent.name}/{Path(path).name}:{line}" if line else path
            print(f"  {calls:>9} {own:7.3f} {cum:7.3f} {cum / total:6.1%}  {name}  {where}")


def queries_of_one_batch(fixture: Fixture, client, body: bytes) -> None:
    """The SQL statements one batch runs, through the Client into a fresh deployment: the same
    view and service the gunicorn workers run."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = api_url(deployment_fresh(fixture, "bench-queries"))
    with CaptureQueriesContext(connection) as captured:
        api_post(client, url, body, fixture.bearer)
    print(f"\nSQL statements of one batch: {len(captured.captured_queries)}")
    for query in captured.captured_queries:
        print(f"  {query['time']:>6} s  {' '.join(query['sql'].split())[:150]}")


def paths_open(args, fixture: Fixture, bench_url: str, server_env: dict, server_url: str):
    """The HTTP path's server (started, not yet waited for) and the in-process Client."""
    from django.test import Client

    http = None
    if args.mode != "client":
        http = HttpPath(bench_url, server_url, fixture.bearer, server_env, args)
    client = Client() if args.mode != "http" else None
    return http, client


def medians_print(args, medians: dict[str, float], paths: Paths) -> None:
    print(f"rows: {args.records:,}   batch size: {args.batch:,}   rounds: {args.rounds}")
    for name, rate in medians.items():
        print(f"{name + ' rows/s (median):':<26} {rate:>9,.0f}")
    print("CPU per 1,000 rows (timed rounds; the wall time includes waiting for a CPU):")
    for name in paths.names():
        print(paths.cpu[name].line(name))
    if paths.http:
        print(f"HTTP connections opened: {paths.http.connections:,}")
    one, five, _ = os.getloadavg()
    print(f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs")


def ratios_of(medians: dict[str, float]) -> dict[str, float]:
    """in-process / COPY (one connection); HTTP / the better COPY, and HTTP / COPY."""
    ratios = {}
    if "in-process" in medians:
        ratios["in-process"] = medians["in-process"] / medians["COPY"]
    if "HTTP" in medians:
        best = max(rate for name, rate in medians.items() if name.startswith("COPY"))
        ratios["HTTP"] = medians["HTTP"] / best
        ratios["HTTP / one COPY"] = medians["HTTP"] / medians["COPY"]
    return ratios


def benchmark(args: argparse.Namespace, bench_url: str, server_url: str, env: dict) -> dict:
    """Set up, time the paths round by round, print the medians; return the ratios."""
    from monitoring.services.ingestion import MAX_BATCH

    if not 0 < args.batch <= MAX_BATCH:
        raise SystemExit(f"--batch must be 1 to {MAX_BATCH} (the API's largest batch)")
    fixture = fixture_create()
    http, client = paths_open(args, fixture, bench_url, env, server_url)
    try:
        started = time.perf_counter()
        rng = np.random.default_rng(args.seed)
        bodies, batches = batches_make(rng, args.records, args.batch)
        megabytes = sum(map(len, bodies)) / 1e6
        print(
            f"{args.records:,} records in {len(bodies)} batches of {args.batch:,} "
            f"({megabytes:.1f} MB of JSON) generated in {time.perf_counter() - started:.1f} s"
        )
        # The fixture data is no request's: out of the collector's reach, as config/wsgi.py
        # does with what a served process loads at start-up.
        gc.collect()
        gc.freeze()
        if http:
            http.wait_ready()
            print(f"HTTP path: {http.described}")
        if client:
            print("in-process path: django.test.Client: WSGI handler, middleware, DRF and the")
            print("  service, without a socket, one request after the other")
        copies = args.clients if http and args.clients > 1 else 0
        with contextlib.ExitStack() as stack:
            conn = stack.enter_context(psycopg.connect(bench_url, autocommit=True))
            conns = [
                stack.enter_context(psycopg.connect(bench_url, autocommit=True))
                for _ in range(copies)
            ]
            meter = CpuMeter(server_url, http.server if http else None)
            paths = Paths(fixture, client, http, conn, conns, meter)
            warm_up(paths, rng)
            rates = [
                round_run(round_no, args, paths, bodies, batches)
                for round_no in range(1, args.rounds + 1)
            ]
    finally:
        if http:
            http.stop()
    medians = {name: statistics.median(r[name] for r in rates) for name in paths.names()}
    medians_print(args, medians, paths)
    ratios = ratios_of(medians)
    if args.profile and client:
        profile_one_batch(fixture, client, bodies[0])
        queries_of_one_batch(fixture, client, bodies[0])
    elif ratios.get("in-process", 1) < TARGET_RATIO or ratios.get("HTTP", 1) < TARGET_HTTP_RATIO:
        print("below the target: run with --profile to see where the time goes")
    return ratios


def server_url_or_exit() -> str:
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url or dj_database_url.parse(server_url)["ENGINE"] != (
        "django.db.backends.postgresql"
    ):
        raise SystemExit(
            "bench/ingest.py measures PostgreSQL only: set DATABASE_URL=postgres://user@host:port/db"
            " (the server to use; the benchmark creates its own database)."
        )
    return server_url


def main() -> int:
    args = parse_args()
    server_url = server_url_or_exit()
    bench_url = url_with_database(server_url, BENCH_DATABASE)
    database_recreate(server_url, BENCH_DATABASE)
    # Production settings as `make serve` gives them, the same in this process (the fixture,
    # the in-process path) as in the server's (keys of this run, so one token works in both).
    env = production_env(bench_url)
    os.environ.update(env)
    for name in ("STEWARD_DEBUG", "STEWARD_DEMO", "REDIS_URL"):
        os.environ.pop(name, None)
    try:
        django_setup(bench_url)
        ratios = benchmark(args, bench_url, server_url, env)
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep:
            print(f"kept database {BENCH_DATABASE}")
        else:
            database_recreate(server_url, BENCH_DATABASE, create=False)
    if "HTTP" in ratios:
        # For reference only: concurrent clients against a single COPY stream flatter the API.
        print(
            f"ratio api/copy over HTTP against one COPY connection: {ratios['HTTP / one COPY']:.2f}"
        )
    if "in-process" in ratios and "HTTP" in ratios:
        print(f"ratio api/copy in-process (django.test.Client): {ratios['in-process']:.2f}")
    print(f"ratio api/copy: {ratios.get('HTTP', ratios.get('in-process')):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
