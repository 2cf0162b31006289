"""Benchmark of OpenLineage ingestion: events per second through POST /api/v1/lineage for a job
that reads 10 datasets and writes 10 (a 20-dataset job), against Steward's own registration
API recording the same graph.

    .venv/bin/python bench/openlineage.py [--runs 50] [--gzip]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/steward .venv/bin/python bench/openlineage.py

Without DATABASE_URL it runs on the embedded default: a throw-away SQLite database in a
temporary folder. With a PostgreSQL DATABASE_URL (which names the server; that database is
never touched) it creates its own, ``steward_bench_openlineage``, dropped first if it exists
and again at the end. It migrates it and, through the services, makes a team and a contributor
with an API token of the write scope.

Each run of the job is recorded two ways, ``--runs`` times each after two untimed warm-up runs:

* OpenLineage: a START event naming the 10 inputs, then a COMPLETE event naming the 10 inputs
  and the 10 outputs, each with a schema and dataSource facet, as openlineage-python sends them
  (JSON, or gzip with ``--gzip``). Every output becomes a new dataset version of that run; the
  inputs are the versions already known.
* Registration API: what a client of Steward's own API sends for the same graph, the 20
  datasets and the 10 input versions being registered once before timing: POST /api/v1/runs/
  with the 10 inputs, then one POST /api/v1/datasets/{name}/versions/ per output naming the run
  (11 requests per run).

The requests go through ``django.test.Client`` in this process: the whole WSGI handler,
middleware, DRF authentication (Bearer token), permissions, parser, view and service, minus the
socket. Every answer must be 201. Figures: requests per second, runs (graphs) per second, and
milliseconds per run; the last line is ``ratio openlineage/api runs per second: X.XX``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BENCH_DATABASE = "steward_bench_openlineage"
INPUTS = OUTPUTS = 10
WARM_UP = 2
PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"
FACET = {"_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/x.json"}
COLUMNS = [{"name": f"col_{i}", "type": "DOUBLE"} for i in range(12)]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50, help="timed runs per path")
    parser.add_argument("--gzip", action="store_true", help="send events gzip-compressed")
    return parser.parse_args()


def django_setup(folder: Path) -> str | None:
    """Point Django at the bench database and migrate it; the PostgreSQL server URL to drop it
    from at the end, or None for SQLite."""
    server = os.environ.get("DATABASE_URL", "")
    if server.startswith("postgres"):
        from bench.lineage import database_recreate, url_with_database

        database_recreate(server, BENCH_DATABASE)
        os.environ["DATABASE_URL"] = url_with_database(server, BENCH_DATABASE)
    else:
        server = None
        os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ["STEWARD_VAR_DIR"] = str(folder)
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault(
        "STEWARD_SECRET_KEY", "bench-only-secret-key-never-used-to-sign-anything-0123456789"
    )
    os.environ.setdefault(
        "STEWARD_AUDIT_KEY", "bench-only-audit-key-never-used-to-sign-anything-0123456789"
    )
    os.environ.setdefault("STEWARD_ALLOWED_HOSTS", "testserver")
    (folder / "static").mkdir(exist_ok=True)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    return server


def contributor_with_token() -> str:
    from accounts.choices import RoleName
    from accounts.models import User
    from accounts.services import role_assign, team_add_member, team_create, token_create

    team = team_create(actor=None, name="Bench")
    user = User.objects.create_user(username="bench-pipeline")
    team_add_member(team=team, user=user)
    role_assign(user=user, role=RoleName.CONTRIBUTOR, team=team)
    return token_create(actor=user, name="bench", scopes=["read", "write"])[1]


def dataset(namespace: str, name: str) -> dict:
    return {
        "namespace": namespace,
        "name": name,
        "facets": {
            "schema": {**FACET, "fields": COLUMNS},
            "dataSource": {**FACET, "name": namespace, "uri": namespace},
        },
    }


def events_of(run_id: uuid.UUID, start: datetime) -> list[dict]:
    inputs = [dataset("postgres://warehouse:5432", f"lake.raw.table_{i}") for i in range(INPUTS)]
    outputs = [dataset("s3://features", f"features/table_{i}") for i in range(OUTPUTS)]
    base = {
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": str(run_id)},
        "job": {"namespace": "bench", "name": "build_features"},
    }
    stamp = start.isoformat().replace("+00:00", "Z")
    end = (start + timedelta(seconds=30)).isoformat().replace("+00:00", "Z")
    return [
        {**base, "eventType": "START", "eventTime": stamp, "inputs": inputs},
        {
            **base,
            "eventType": "COMPLETE",
            "eventTime": end,
            "inputs": inputs,
            "outputs": outputs,
        },
    ]


class Sender:
    """POSTs JSON (or gzip JSON) with the bench token; every answer must be 201."""

    def __init__(self, secret: str, *, compress: bool):
        from django.test import Client

        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
        self.compress = compress
        self.requests = 0

    def post(self, path: str, body: dict, *, compress: bool = False) -> dict:
        raw = json.dumps(body).encode()
        extra = {}
        if compress:
            raw = gzip.compress(raw, compresslevel=3)
            extra["HTTP_CONTENT_ENCODING"] = "gzip"
        # secure=True: production settings redirect plain http to https, as behind a TLS proxy.
        response = self.client.post(
            path, raw, content_type="application/json", secure=True, **extra
        )
        self.requests += 1
        if response.status_code != 201:
            raise SystemExit(f"{path}: {response.status_code} {response.content[:300]!r}")
        return json.loads(response.content) if response.content else {}


def openlineage_run(sender: Sender, index: int) -> None:
    start = datetime(2026, 3, 2, tzinfo=UTC) + timedelta(minutes=index)
    for event in events_of(uuid.uuid4(), start):
        sender.post("/api/v1/lineage", event, compress=sender.compress)


def api_setup(sender: Sender) -> None:
    """The datasets and input versions the registration API's client registers once."""
    for i in range(INPUTS):
        sender.post("/api/v1/datasets/", {"name": f"api-in-{i}", "owner_team": "bench"})
        sender.post(
            f"/api/v1/datasets/api-in-{i}/versions/",
            {
                "uri": f"postgres://warehouse:5432/lake.raw.table_{i}",
                "content_hash": f"{i:064x}",
                "schema": {"fields": COLUMNS},
            },
        )
    for i in range(OUTPUTS):
        sender.post("/api/v1/datasets/", {"name": f"api-out-{i}", "owner_team": "bench"})


def api_run(sender: Sender, index: int) -> None:
    run = sender.post(
        "/api/v1/runs/",
        {
            "kind": "transformation",
            "team": "bench",
            "name": "build_features",
            "inputs": [
                {"dataset": f"api-in-{i}", "version": 1, "role": "input"} for i in range(INPUTS)
            ],
        },
    )
    for i in range(OUTPUTS):
        sender.post(
            f"/api/v1/datasets/api-out-{i}/versions/",
            {
                "uri": f"s3://features/features/table_{i}",
                "content_hash": f"{index * OUTPUTS + i:064x}",
                "schema": {"fields": COLUMNS},
                "produced_by_run": run["uuid"],
            },
        )


def timed(label: str, sender: Sender, one_run: Callable[[Sender, int], None], runs: int) -> float:
    for index in range(WARM_UP):
        one_run(sender, 100_000 + index)
    sender.requests = 0
    durations = []
    began = time.perf_counter()
    for index in range(runs):
        started = time.perf_counter()
        one_run(sender, index)
        durations.append(time.perf_counter() - started)
    wall = time.perf_counter() - began
    per_second = runs / wall
    print(
        f"{label:<18} {sender.requests / wall:8.1f} requests/s  {per_second:7.2f} runs/s  "
        f"{statistics.median(durations) * 1000:7.1f} ms per run (median)  "
        f"{sender.requests // runs} requests per run"
    )
    return per_second


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="steward-bench-openlineage-") as folder:
        server = django_setup(Path(folder))
        try:
            from django.db import connection

            secret = contributor_with_token()
            sender = Sender(secret, compress=args.gzip)
            api_setup(sender)
            vendor = connection.vendor
            print(
                f"{vendor}: a job reading {INPUTS} and writing {OUTPUTS} datasets "
                f"({len(COLUMNS)} columns each), {args.runs} runs per path"
                f"{', gzip events' if args.gzip else ''}"
            )
            ol = timed("openlineage", sender, openlineage_run, args.runs)
            api = timed("registration api", sender, api_run, args.runs)
            print(f"ratio openlineage/api runs per second: {ol / api:.2f}")
        finally:
            if server is not None:
                from django.db import connections

                from bench.lineage import database_recreate

                connections.close_all()
                database_recreate(server, BENCH_DATABASE, create=False)


if __name__ == "__main__":
    main()
