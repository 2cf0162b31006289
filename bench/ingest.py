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

Each of ``--rounds`` rounds deploys two fresh staging deployments of the version (no workflow
gate in staging) and times, alternating which goes first:

* API: every body POSTed to /api/v1/deployments/{name}/predictions/ with
  ``Authorization: Bearer <token>``, one after the other. gunicorn is not a dependency of
  Steward, so the requests go through ``django.test.Client`` in this process: the whole WSGI
  handler, middleware, DRF authentication, permissions and parser, the view and the service,
  minus the socket and HTTP parsing a server would add. The Client keeps one database
  connection for all requests, as a server with STEWARD_DB_CONN_MAX_AGE > 0 would.
* COPY: the same rows, for the other deployment, COPY'd with psycopg into monitoring_prediction
  (the columns of ``monitoring.services.ingestion.COPY_SQL``), one transaction per batch.

Rows/s is rows / wall seconds of the round; every record must be accepted, and is counted in
the table afterwards. A small untimed batch on each path first warms caches and connections.
The figures printed are medians over the rounds, and the last line is ``ratio api/copy: X.XX``
(median API rows/s / median COPY rows/s; the target is 0.5). ``--profile`` then runs one more
batch through the Client under cProfile and prints the top entries by cumulative and by own
time.
"""

from __future__ import annotations

import argparse
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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import dj_database_url
import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lineage import database_recreate, django_setup, url_with_database  # noqa: E402

if TYPE_CHECKING:
    from accounts.models import User
    from registry.models import ModelVersion

BENCH_DATABASE = "steward_bench_ingest"
TARGET_RATIO = 0.5
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
    parser.add_argument("--profile", action="store_true", help="cProfile one batch via the API")
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DATABASE} database")
    return parser.parse_args()


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


def warm_up(fixture: Fixture, client, conn, rng: np.random.Generator) -> None:
    """A small untimed batch on each path first: imports, URL resolver, caches, connections."""
    bodies, batches = batches_make(rng, WARM_UP_RECORDS, WARM_UP_RECORDS)
    api_ingest(client, deployment_fresh(fixture, "bench-warm-api"), bodies, fixture.bearer)
    copy_ingest(conn, deployment_fresh(fixture, "bench-warm-copy"), batches)


def round_run(round_no: int, args, fixture: Fixture, client, conn, bodies, batches) -> tuple:
    """API and COPY rows/s of one round, each into a fresh deployment. Odd rounds start with the
    API, even ones with COPY, so that the table each writes into has grown alike on average."""
    api_target = deployment_fresh(fixture, f"bench-api-{round_no}")
    copy_target = deployment_fresh(fixture, f"bench-copy-{round_no}")
    paths = {
        "API": (api_target, lambda: api_ingest(client, api_target, bodies, fixture.bearer)),
        "COPY": (copy_target, lambda: copy_ingest(conn, copy_target, batches)),
    }
    order = ("API", "COPY") if round_no % 2 else ("COPY", "API")
    rates = {}
    for path in order:
        target, call = paths[path]
        rates[path] = timed(call, args.records, target)
    print(
        f"round {round_no}: API {rates['API']:>9,.0f} rows/s   COPY {rates['COPY']:>9,.0f} rows/s"
        f"   api/copy {rates['API'] / rates['COPY']:.2f}   ({order[0]} first)"
    )
    return rates["API"], rates["COPY"]


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


def benchmark(args: argparse.Namespace, bench_url: str) -> float:
    """Set up, time both paths round by round, print the medians; return API / COPY."""
    from django.test import Client

    from monitoring.services.ingestion import MAX_BATCH

    if not 0 < args.batch <= MAX_BATCH:
        raise SystemExit(f"--batch must be 1 to {MAX_BATCH} (the API's largest batch)")
    fixture = fixture_create()
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    bodies, batches = batches_make(rng, args.records, args.batch)
    megabytes = sum(map(len, bodies)) / 1e6
    print(
        f"{args.records:,} records in {len(bodies)} batches of {args.batch:,} "
        f"({megabytes:.1f} MB of JSON) generated in {time.perf_counter() - started:.1f} s"
    )
    # The fixture data is no request's: out of the collector's reach, as config/wsgi.py does
    # with what a served process loads at start-up.
    gc.collect()
    gc.freeze()
    print(
        "API path: django.test.Client in this process (gunicorn is not a dependency of Steward):"
        " WSGI handler, middleware, DRF and the service, without a socket"
    )
    client = Client()
    with psycopg.connect(bench_url, autocommit=True) as conn:
        warm_up(fixture, client, conn, rng)
        rates = [
            round_run(round_no, args, fixture, client, conn, bodies, batches)
            for round_no in range(1, args.rounds + 1)
        ]
    api, copy = (statistics.median(path) for path in zip(*rates, strict=True))
    print(f"rows: {args.records:,}   batch size: {args.batch:,}   rounds: {args.rounds}")
    print(f"API  rows/s (median): {api:>9,.0f}")
    print(f"COPY rows/s (median): {copy:>9,.0f}")
    ratio = api / copy
    if args.profile:
        profile_one_batch(fixture, client, bodies[0])
    elif ratio < TARGET_RATIO:
        print(f"below the target of {TARGET_RATIO:.2f}: run with --profile to see where it goes")
    return ratio


def main() -> int:
    args = parse_args()
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url or dj_database_url.parse(server_url)["ENGINE"] != (
        "django.db.backends.postgresql"
    ):
        print(
            "bench/ingest.py measures PostgreSQL only: set DATABASE_URL=postgres://user@host:port/db"
            " (the server to use; the benchmark creates its own database).",
            file=sys.stderr,
        )
        return 2
    bench_url = url_with_database(server_url, BENCH_DATABASE)
    database_recreate(server_url, BENCH_DATABASE)
    try:
        django_setup(bench_url)
        ratio = benchmark(args, bench_url)
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep:
            print(f"kept database {BENCH_DATABASE}")
        else:
            database_recreate(server_url, BENCH_DATABASE, create=False)
    print(f"ratio api/copy: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
