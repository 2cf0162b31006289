"""The prediction log at scale: partitioned by month against one plain table.

DATABASE_URL names a PostgreSQL server; the benchmark never touches that database. It creates its
own, ``steward_bench_scale`` (dropped first, and again at the end unless ``--keep``), migrates it
(so the log is partitioned by month, as monitoring.partitions makes it), and creates through the
services 20 models, each with one version deployed live in staging, and their baselines.

It then fills the log with ``--rows`` predictions (20 million by default) spread evenly over the
last 12 months across the 20 deployments, by COPY in the row format ingestion writes
(monitoring.services.ingestion.COPY_SQL: inputs as JSON, the numeric vector beside it, a third
of the rows with ground truth), VACUUM ANALYZEs it, and copies it into a plain table with the
indexes the log had before partitioning (``bench_prediction_plain``).

Timed, each on the partitioned log and then on the plain copy (swapped in under the log's name,
so that the product's own code runs unchanged on both; median of ``--repeat`` after a warm-up):

* one day's drift check of one deployment (``drift_outcome``: the window read + statistics);
* one month's performance check of one deployment (``performance_outcome``);
* the monitoring dashboard page and one deployment's page (its newest predictions), rendered
  by Django's test client as a logged-in administrator;
* removing the oldest (expired) month by retention: the partition dropped, against its rows
  deleted from the plain table (``predictions_retention_apply`` on each, audited); and, timed
  apart, the removal of the dropped rows' request-id keys that the drop leaves to a task
  (``monitoring.remove_dropped_prediction_keys``, run here after the drop's commit).

The last line is ``scale: rows=N window_ms=X (plain Y) month_drop_ms=Z (plain W)
keys_after_ms=K``.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.drift_postgres import postgres_server_url  # noqa: E402
from bench.lineage import database_recreate, django_setup, url_with_database  # noqa: E402

BENCH_DATABASE = "steward_bench_scale"
DEPLOYMENTS = 20
FEATURES = 10
MONTHS = 12
PLAIN = "bench_prediction_plain"
INPUT_SCHEMA = {
    "type": "tabular",
    "columns": [{"name": f"f{i}", "type": "float64"} for i in range(FEATURES)],
}
OUTPUT_SCHEMA = {
    "columns": [
        {"name": "label", "type": "string", "labels": ["no", "yes"]},
        {"name": "score", "type": "float64"},
    ]
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DATABASE} database")
    return parser.parse_args()


def timed(call, repeat: int) -> tuple[float, object]:
    call()  # warm-up
    seconds, result = [], None
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


# --- set-up --------------------------------------------------------------------------------------


def deployments_create(rng):
    """20 models, one version each, deployed live in staging, each with a baseline."""
    from accounts.choices import RoleName
    from accounts.services import role_assign, team_add_member, team_create, user_create
    from monitoring.services.baselines import baseline_create
    from monitoring.services.deployments import deployment_create
    from registry.services import model_version_register, registered_model_create

    team = team_create(name="Bench", slug="bench")
    contributor = user_create(actor=None, username="bench-contributor")
    team_add_member(team=team, user=contributor)
    role_assign(user=contributor, role=RoleName.CONTRIBUTOR, team=team)
    manager = user_create(actor=None, username="bench-manager")
    role_assign(user=manager, role=RoleName.MANAGER)
    reference = [
        {f"f{i}": float(v) for i, v in enumerate(row)}
        for row in rng.normal(0.0, 1.0, (5000, FEATURES))
    ]
    deployments = []
    for n in range(DEPLOYMENTS):
        model = registered_model_create(
            actor=contributor, name=f"bench-scale-{n:02d}", owner_team=team
        )
        version = model_version_register(
            actor=contributor,
            registered_model=model,
            artifact_uri=f"s3://bench/scale-{n}.pkl",
            artifact_sha256="0" * 64,
            framework="sklearn",
            input_schema=INPUT_SCHEMA,
            output_schema=OUTPUT_SCHEMA,
        )
        baseline_create(actor=contributor, version=version, rows=reference, source_label="bench")
        deployments.append(
            deployment_create(
                actor=manager,
                version=version,
                name=f"bench-scale-{n:02d}",
                environment="staging",
                mode="live",
            )
        )
    return deployments


def rows_copy(bench_url: str, deployment_ids: list[int], total: int, start, end, seed) -> float:
    """COPY ``total`` rows spread evenly over [start, end), in time order, round the
    deployments; return the seconds COPY took (rows are made in chunks as they go)."""
    from monitoring.services.ingestion import COPY_SQL

    statement = COPY_SQL.replace(
        " numeric_inputs) FROM STDIN", " numeric_inputs, ground_truth, ground_truth_at) FROM STDIN"
    )
    assert statement != COPY_SQL
    rng = np.random.default_rng(seed)
    span = (end - start).total_seconds()
    chunk = 200_000
    started = time.perf_counter()
    with psycopg.connect(bench_url) as conn, conn.cursor() as cursor:
        for first in range(0, total, chunk):
            n = min(chunk, total - first)
            offsets = (np.arange(first, first + n) + rng.random(n)) * (span / total)
            features = rng.normal(0.0, 1.0, (n, FEATURES))
            vectors = features.astype("<f8")
            scores = rng.random(n)
            # A third of the predictions have their ground truth (85 % right), as feedback
            # leaves it.
            labelled = rng.random(n) < 1 / 3
            right = rng.random(n) < 0.85
            with cursor.copy(statement) as copy:
                for i in range(n):
                    index = first + i
                    moment = start + timedelta(seconds=float(offsets[i]))
                    label = "yes" if scores[i] > 0.5 else "no"
                    truth = None
                    if labelled[i]:
                        truth = json.dumps(
                            label if right[i] else ("no" if label == "yes" else "yes")
                        )
                    copy.write_row(
                        (
                            deployment_ids[index % len(deployment_ids)],
                            f"s-{index:09d}",
                            moment,
                            moment,
                            json.dumps(dict(zip(NAMES, features[i].tolist(), strict=True))),
                            json.dumps({"label": label, "score": float(scores[i])}),
                            12.5,
                            "{}",
                            vectors[i].tobytes(),
                            truth,
                            moment + timedelta(days=2) if truth else None,
                        )
                    )
            conn.commit()
            print(f"  {first + n:,} rows", end="\r", flush=True)
        print()
    return time.perf_counter() - started


NAMES = [f"f{i}" for i in range(FEATURES)]


def plain_copy_make(bench_url: str) -> float:
    """The same rows in one plain table with the indexes the log had before partitioning."""
    started = time.perf_counter()
    with psycopg.connect(bench_url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {PLAIN} (LIKE monitoring_prediction INCLUDING DEFAULTS)")
        conn.execute(f"INSERT INTO {PLAIN} SELECT * FROM monitoring_prediction")
        conn.execute(f"ALTER TABLE {PLAIN} ADD CONSTRAINT {PLAIN}_pkey PRIMARY KEY (id)")
        conn.execute(
            f"ALTER TABLE {PLAIN} ADD CONSTRAINT {PLAIN}_unique UNIQUE (deployment_id, request_id)"
        )
        conn.execute(f"CREATE INDEX {PLAIN}_window ON {PLAIN} (deployment_id, predicted_at)")
        conn.execute(f"CREATE INDEX {PLAIN}_request ON {PLAIN} (request_id)")
        conn.execute(f"CREATE INDEX {PLAIN}_deployment ON {PLAIN} (deployment_id)")
        conn.execute("VACUUM (ANALYZE) monitoring_prediction")
        conn.execute(f"VACUUM (ANALYZE) {PLAIN}")
    return time.perf_counter() - started


def swap() -> None:
    """Swap the partitioned log and the plain copy under the log's name."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE monitoring_prediction RENAME TO bench_swap")
        cursor.execute(f"ALTER TABLE {PLAIN} RENAME TO monitoring_prediction")
        cursor.execute(f"ALTER TABLE bench_swap RENAME TO {PLAIN}")
    connection.close()  # no prepared statement outlives the swap


# --- the timed work ------------------------------------------------------------------------------


def queries_time(deployment, baseline, now, repeat, client) -> dict[str, float]:
    from monitoring.services.checks import drift_outcome, performance_outcome

    day_end = now.replace(minute=0, second=0, microsecond=0) - timedelta(days=10)
    day_start = day_end - timedelta(days=1)
    month_end = day_end
    month_start = month_end - timedelta(days=30)
    figures = {}
    figures["drift_day_s"], drift = timed(
        lambda: drift_outcome(deployment, baseline, day_start, day_end), repeat
    )
    figures["drift_day_rows"] = drift.row_count
    figures["performance_month_s"], performance = timed(
        lambda: performance_outcome(deployment, month_start, month_end), repeat
    )
    figures["performance_month_rows"] = performance.row_count
    figures["dashboard_s"], page = timed(lambda: client.get("/monitoring/", secure=True), repeat)
    assert page.status_code == 200, page.status_code
    figures["deployment_page_s"], page = timed(
        lambda: client.get(f"/monitoring/deployments/{deployment.name}/", secure=True), repeat
    )
    assert page.status_code == 200, page.status_code
    return figures


def month_drop_time(now, settings_days: int) -> tuple[float, int, float, int]:
    """Retention with a retention that lets exactly the oldest month go: the seconds of the
    removal (the drop, or the DELETE) and its rows, then the seconds and the count of the keys
    removed after a drop (the task the drop asks for, run in this process after the commit:
    ``dropped_keys_remove``; timed on its own, not in the removal)."""
    from django.conf import settings
    from django.db import connection

    from monitoring import partitions
    from monitoring.services.retention import predictions_retention_apply

    statements: dict[str, float] = {}
    cleanup: list[tuple[float, int]] = []
    keys_remove = partitions.dropped_keys_remove

    removing = [False]  # the statements of the key removal are not the drop's

    def keys_remove_timed(**kwargs) -> int:
        started, removing[0] = time.perf_counter(), True
        try:
            removed = keys_remove(**kwargs)
        finally:
            removing[0] = False
        cleanup.append((time.perf_counter() - started, removed))
        return removed

    def statement_timed(execute, statement, params, many, context):
        started = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            if not removing[0]:
                kind = " ".join(statement.split()[:3])
                statements[kind] = statements.get(kind, 0.0) + time.perf_counter() - started

    settings.STEWARD_PREDICTION_RETENTION_DAYS = settings_days
    partitions.dropped_keys_remove = keys_remove_timed
    started = time.perf_counter()
    try:
        with connection.execute_wrapper(statement_timed):
            outcome = predictions_retention_apply(now=now)
    finally:
        partitions.dropped_keys_remove = keys_remove
    seconds = time.perf_counter() - started
    settings.STEWARD_PREDICTION_RETENTION_DAYS = None
    keys_seconds = sum(spent for spent, _ in cleanup)
    keys_removed = sum(removed for _, removed in cleanup)
    heaviest = sorted(statements.items(), key=lambda kv: -kv[1])[:5]
    print(
        f"    retention's heaviest statements ({len(statements)} kinds): "
        + "; ".join(f"{kind}... {spent * 1000:.0f} ms" for kind, spent in heaviest)
    )
    if cleanup:
        print(
            f"    then the dropped rows' keys, removed after the commit: {keys_removed:,} keys "
            f"in {keys_seconds * 1000:.0f} ms (monitoring.remove_dropped_prediction_keys)"
        )
    return seconds - keys_seconds, outcome.rows_removed, keys_seconds, keys_removed


def window_explain(deployment, now) -> str:
    from django.db import connection

    end = now - timedelta(days=10)
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT count(*), count(numeric_inputs), "
            "string_agg(numeric_inputs, ''::bytea) FROM monitoring_prediction "
            "WHERE deployment_id = %s AND predicted_at >= %s AND predicted_at < %s",
            [deployment.pk, end - timedelta(days=1), end],
        )
        return "\n".join("    " + r[0] for r in cursor.fetchall())


def main() -> int:
    args = parse_args()
    server, reason = postgres_server_url()
    if server is None:
        print(f"scale: skipped, {reason}")
        print("scale: n/a")
        return 0
    bench_url = url_with_database(server, BENCH_DATABASE)
    database_recreate(server, BENCH_DATABASE)
    try:
        return run(args, bench_url)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            database_recreate(server, BENCH_DATABASE, create=False)


def run(args, bench_url: str) -> int:
    django_setup(bench_url)
    from django.test import Client

    from accounts.models import User
    from monitoring.models import BaselineProfile
    from monitoring.partitions import partition_list, partitions_ensure

    rng = np.random.default_rng(args.seed)
    now = datetime.now(UTC)
    start, end = now - timedelta(days=365), now - timedelta(hours=1)
    deployments = deployments_create(rng)
    partitions_ensure()
    print(
        f"database {BENCH_DATABASE}: {DEPLOYMENTS} deployments, {FEATURES} numeric features, "
        f"{args.rows:,} predictions from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
    )
    from monitoring.partitions import DEFAULT, TABLE, period_of

    # The year's partitions exist before COPY, as a year of daily beat ticks leaves them.
    partitions_ensure(since=start)
    copy_seconds = rows_copy(
        bench_url, [d.pk for d in deployments], args.rows, start, end, args.seed
    )
    print(
        f"COPY {args.rows:,} rows (ingestion's row format, key trigger on): {copy_seconds:.1f} s, "
        f"{args.rows / copy_seconds:,.0f} rows/s (includes making the rows in Python)"
    )
    plain_seconds = plain_copy_make(bench_url)
    print(f"plain copy with its indexes + VACUUM ANALYZE of both: {plain_seconds:.1f} s")
    partitions = [p for p in partition_list() if p.name != DEFAULT]
    print(
        f"{TABLE}: {len(partitions)} monthly partitions, "
        f"{sum(p.size_bytes for p in partition_list()) / 2**30:.2f} GiB with indexes"
    )
    admin = User.objects.create_superuser("bench-admin", "admin@example.org", None)
    client = Client()
    client.force_login(admin)
    deployment = deployments[7]
    baseline = BaselineProfile.objects.filter(model_version=deployment.model_version).first()
    print("window read on the partitioned log (EXPLAIN ANALYZE):")
    print(window_explain(deployment, now))

    partitioned = queries_time(deployment, baseline, now, args.repeat, client)
    swap()
    plain = queries_time(deployment, baseline, now, args.repeat, client)
    oldest = min(p.start for p in partitions)
    days = (now - period_of(oldest)[1]).days  # the oldest month, and only it, expires
    plain_drop, plain_rows, _, _ = month_drop_time(now, days)
    swap()
    part_drop, part_rows, keys_seconds, keys_removed = month_drop_time(now, days)

    print(f"{'':34}{'partitioned':>14}{'plain table':>14}{'ratio':>8}")
    for key, label in (
        ("drift_day_s", f"drift check, 1 day ({partitioned['drift_day_rows']:,} rows)"),
        (
            "performance_month_s",
            f"performance check, 30 days ({partitioned['performance_month_rows']:,} labelled)",
        ),
        ("dashboard_s", "dashboard page"),
        ("deployment_page_s", "deployment page (newest rows)"),
    ):
        a, b = partitioned[key] * 1000, plain[key] * 1000
        print(f"{label:34}{a:>11.1f} ms{b:>11.1f} ms{b / a:>7.1f}x")
    print(
        f"{'oldest month removed by retention':34}{part_drop * 1000:>11.1f} ms"
        f"{plain_drop * 1000:>11.1f} ms{plain_drop / part_drop:>7.1f}x"
        f"   ({part_rows:,} rows dropped; {plain_rows:,} deleted)"
    )
    print(
        f"{'  its keys, removed afterwards':34}{keys_seconds * 1000:>11.1f} ms"
        f"{'':>14}{'':>8}   ({keys_removed:,} keys, in batches, by a task after the drop)"
    )
    print(
        f"scale: rows={args.rows} window_ms={partitioned['drift_day_s'] * 1000:.1f} "
        f"(plain {plain['drift_day_s'] * 1000:.1f}) month_drop_ms={part_drop * 1000:.1f} "
        f"(plain {plain_drop * 1000:.1f}) keys_after_ms={keys_seconds * 1000:.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
