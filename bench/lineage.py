"""Benchmark of the lineage closure on a graph of production size, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/steward .venv/bin/python bench/lineage.py

DATABASE_URL names the server (and the credentials); the benchmark never touches that database.
It creates its own, ``steward_bench`` (dropped first if it exists, and again at the end unless
``--keep``), migrates it, and loads with COPY a layered lineage graph of 100,000 nodes and about
300,000 edges: 80 independent pipelines of 50 layers of 25 nodes, alternating dataset versions
and runs and ending in model versions; each node has 2-4 parents in the layer before (a seeded
RNG picks them, so branches and diamonds everywhere), and a dataset version sometimes derives
from one two layers back instead. The upstream closure of a last-layer model version is then
about 1,100 nodes, 38 hops deep. VACUUM ANALYZE leaves the tables as autovacuum would.

It times ``registry.selectors.lineage_closure`` as a member of the owning team (the service
path: Django cursor, each node checked for visibility, rows turned into a LineageGraph) against
the same recursive SQL (``registry.selectors.UPSTREAM_SQL``) run on a plain psycopg connection,
each warmed up then repeated, and prints median and p95. The last line printed is
``ratio service/raw: X.XX`` (median service / median raw, on the large closure).
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BENCH_DATABASE = "steward_bench"
BUDGET_MS = 100.0
NODE_COLUMNS = ("id", "kind", "object_id", "key", "label", "owner_team_id")
EDGE_COLUMNS = ("id", "source_id", "target_id", "relation")
SPLIT_ROLES = ("input", "train", "test")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pipelines", type=int, default=80)
    parser.add_argument("--layers", type=int, default=50)
    parser.add_argument("--width", type=int, default=25)
    parser.add_argument("--skip", type=float, default=0.05, help="chance of a 2-layer edge")
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE plans")
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DATABASE} database")
    return parser.parse_args()


# --- the bench database -------------------------------------------------------------------------


def url_with_database(url: str, database: str) -> str:
    return urlsplit(url)._replace(path=f"/{database}").geturl()


def database_recreate(server_url: str, database: str, *, create: bool = True) -> None:
    """Drop ``database`` (closing its sessions) and, unless told not to, create it empty."""
    with psycopg.connect(url_with_database(server_url, "postgres"), autocommit=True) as admin:
        name = sql.Identifier(database)
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        if create:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(name))


def django_setup(bench_url: str) -> None:
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault(
        "STEWARD_SECRET_KEY", "bench-only-secret-key-never-used-to-sign-anything-0123456789"
    )
    os.environ.setdefault(
        "STEWARD_AUDIT_KEY", "bench-only-audit-key-never-used-to-sign-anything-0123456789"
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    # As config/wsgi.py does in a served process: start-up objects leave the collector's reach.
    gc.freeze()


def bench_reader():
    """The one person the benchmark reads as: a plain member of the team that owns every node,
    so the service does its per-node visibility check the way it does for most users."""
    from accounts import services as account_services
    from accounts.models import User

    team = account_services.team_create(name="Bench", slug="bench")
    reader = User.objects.create_user(username="bench-reader", password=None)
    account_services.team_add_member(team=team, user=reader)
    return reader


# --- the graph ----------------------------------------------------------------------------------


def node_kind(layer: int, layers: int) -> str:
    if layer == layers - 1:
        return "model_version"
    return "dataset_version" if layer % 2 == 0 else "run"


def relation_of(source_kind: str, target_kind: str, rng: random.Random) -> str:
    if source_kind == "run":
        return "produced"
    if target_kind == "run":
        return rng.choice(SPLIT_ROLES)
    return "train" if target_kind == "model_version" else "derived_from"


def lineage_graph(
    args: argparse.Namespace, team_id: int
) -> tuple[list[tuple], list[tuple], list[int]]:
    """Node rows (all owned by ``team_id``), edge rows and, per pipeline, the first model
    version of its last layer."""
    rng = random.Random(args.seed)
    nodes: list[tuple] = []
    edges: list[tuple] = []
    roots: list[int] = []
    for pipeline in range(args.pipelines):
        grid: list[list[int]] = []
        for layer in range(args.layers):
            kind = node_kind(layer, args.layers)
            row = list(range(len(nodes) + 1, len(nodes) + args.width + 1))
            for index, node_id in enumerate(row):
                key = f"bench-{pipeline}/{layer}-{index}"
                nodes.append((node_id, kind, node_id, key, f"{kind} {key}", team_id))
                if layer:
                    edges.extend(parent_edges(args, rng, grid, layer, node_id, len(edges)))
            grid.append(row)
        roots.append(grid[-1][0])
    return nodes, edges, roots


def parent_edges(args, rng, grid, layer, target, first_id) -> Iterator[tuple]:
    """2-4 distinct parents from the previous layer; a dataset or model version sometimes takes
    one from two layers back instead (derived from an older dataset version)."""
    target_kind = node_kind(layer, args.layers)
    parents: dict[int, int] = {}
    wanted = rng.choice((2, 3, 3, 4))
    while len(parents) < wanted:
        back = 2 if layer >= 2 and target_kind != "run" and rng.random() < args.skip else 1
        parents.setdefault(rng.choice(grid[layer - back]), layer - back)
    for offset, (source, source_layer) in enumerate(parents.items()):
        source_kind = node_kind(source_layer, args.layers)
        yield (first_id + offset + 1, source, target, relation_of(source_kind, target_kind, rng))


def graph_load(bench_url: str, nodes: list[tuple], edges: list[tuple]) -> None:
    """COPY the rows straight into the lineage tables, then move the id sequences past them and
    VACUUM ANALYZE (statistics, and the visibility map that index-only scans need)."""
    with psycopg.connect(bench_url) as conn, conn.cursor() as cursor:
        for table, columns, rows in (
            ("registry_lineagenode", NODE_COLUMNS, nodes),
            ("registry_lineageedge", EDGE_COLUMNS, edges),
        ):
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            with cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(
                sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), {})").format(
                    sql.Literal(table), sql.Literal(len(rows))
                )
            )
        conn.commit()
        conn.autocommit = True
        cursor.execute("VACUUM (ANALYZE) registry_lineagenode, registry_lineageedge")


# --- timing -------------------------------------------------------------------------------------


def measure_pair(
    first: Callable[[], tuple[int, int]], second: Callable[[], tuple[int, int]], args
) -> tuple[tuple, tuple]:
    """Time two calls alternately, so that whatever else the machine is doing weighs on both
    alike (this box is shared; timing one after the other skews the ratio)."""
    for _ in range(args.warmup):
        first()
        second()
    samples: tuple[list[float], list[float]] = ([], [])
    sizes = [None, None]
    for _ in range(args.repeat):
        for index, call in enumerate((first, second)):
            started = time.perf_counter()
            sizes[index] = call()
            samples[index].append((time.perf_counter() - started) * 1000)

    def figures(index: int) -> tuple:
        ordered = sorted(samples[index])
        p95 = ordered[math.ceil(0.95 * len(ordered)) - 1]
        return statistics.median(ordered), p95, *sizes[index]

    return figures(0), figures(1)


def service_call(user, root, depth: int) -> Callable[[], tuple[int, int]]:
    from registry.selectors import lineage_closure

    def call() -> tuple[int, int]:
        graph = lineage_closure(user=user, root=root, direction="upstream", depth=depth)
        return len(graph.nodes), len(graph.edges)

    return call


def raw_call(conn: psycopg.Connection, root_id: int, depth: int) -> Callable[[], tuple[int, int]]:
    from registry.selectors import UPSTREAM_SQL

    def call() -> tuple[int, int]:
        with conn.cursor() as cursor:
            cursor.execute(UPSTREAM_SQL, {"root": root_id, "depth": depth})
            rows = cursor.fetchall()
        node_rows = sum(1 for row in rows if row[0] == "n")
        return node_rows, len(rows) - node_rows

    return call


# The walk part of UPSTREAM_SQL alone: how many (node, depth) rows it expands for a closure.
# UNION keeps a node once per distinct distance, so every extra path length re-walks its
# ancestors; the ratio of walk rows to closure nodes is what the recursion really costs.
WALK_ROWS_SQL = """
WITH RECURSIVE walk(node_id, depth) AS (
    SELECT CAST(%(root)s AS BIGINT), 0
    UNION
    SELECT e.source_id, w.depth + 1
    FROM registry_lineageedge e JOIN walk w ON e.target_id = w.node_id
    WHERE w.depth < %(depth)s
)
SELECT count(*), count(DISTINCT node_id), max(depth) FROM walk
"""


def walk_rows(conn: psycopg.Connection, root_id: int, depth: int) -> str:
    rows, nodes, deepest = conn.execute(WALK_ROWS_SQL, {"root": root_id, "depth": depth}).fetchone()
    return (
        f"walk expands {rows} (node, depth) rows for {nodes} nodes ({rows / nodes:.1f} per "
        f"node), deepest path {deepest} hops"
    )


def explain(conn: psycopg.Connection, root_id: int, depth: int) -> None:
    from registry.selectors import UPSTREAM_SQL

    plan = conn.execute(
        "EXPLAIN (ANALYZE, BUFFERS) " + UPSTREAM_SQL, {"root": root_id, "depth": depth}
    ).fetchall()
    print("\n".join(f"    {line}" for (line,) in plan))


def report(label: str, figures: tuple[float, float, int, int]) -> None:
    median, p95, nodes, edges = figures
    print(
        f"{label:<36} median {median:7.2f} ms   p95 {p95:7.2f} ms   "
        f"closure {nodes:>5} nodes {edges:>5} edges"
    )


def closure_compare(args, conn, user, root, depth: int) -> tuple[tuple, tuple]:
    """Time the service and the raw SQL on the same closure; print both."""
    service, raw = measure_pair(
        service_call(user, root, depth), raw_call(conn, root.pk, depth), args
    )
    report(f"depth {depth:>2}  service lineage_closure", service)
    report(f"depth {depth:>2}  raw UPSTREAM_SQL, psycopg", raw)
    print(f"          {walk_rows(conn, root.pk, depth)}")
    if args.explain:
        explain(conn, root.pk, depth)
    return service, raw


def benchmark(args: argparse.Namespace, bench_url: str) -> float:
    """Build the graph, time the closures, and return median service / median raw on the
    full (about 1,000-node) closure of the deepest model version."""
    reader = bench_reader()
    started = time.perf_counter()
    nodes, edges, roots = lineage_graph(args, team_id=reader.teams.get().pk)
    graph_load(bench_url, nodes, edges)
    print(
        f"graph: {len(nodes):,} nodes, {len(edges):,} edges; generated, loaded with COPY and "
        f"vacuum-analyzed in {time.perf_counter() - started:.1f} s"
    )
    # The fixture rows are 400,000 live tuples that a web worker would not hold; left alive,
    # every full garbage collection the service triggers would walk them too.
    del nodes, edges
    gc.collect()
    from django.conf import settings

    from registry.models import LineageNode

    root = LineageNode.objects.get(pk=roots[0])
    print(
        f"root: {root} (id {root.pk}), read by {reader.username}; {args.repeat} timed runs after "
        f"{args.warmup} warm-ups"
    )
    with psycopg.connect(bench_url, autocommit=True) as conn:
        closure_compare(args, conn, reader, root, 10)
        service, raw = closure_compare(args, conn, reader, root, settings.LINEAGE_MAX_DEPTH)
    verdict = "yes" if service[0] < BUDGET_MS else "NO"
    print(
        f"{service[2]:,}-node closure through the service: median {service[0]:.2f} ms, "
        f"p95 {service[1]:.2f} ms; under {BUDGET_MS:.0f} ms: {verdict}"
    )
    return service[0] / raw[0]


def main() -> int:
    args = parse_args()
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url or dj_database_url.parse(server_url)["ENGINE"] != (
        "django.db.backends.postgresql"
    ):
        print(
            "bench/lineage.py measures PostgreSQL only: set DATABASE_URL=postgres://user@host:port/db"
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
    print(f"ratio service/raw: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
