"""The end-to-end half of bench/drift.py: the drift check as the product runs it, the window
read from the prediction log in PostgreSQL.

DATABASE_URL names the server; the benchmark never touches that database. It creates its own,
``steward_bench_drift`` (dropped first, and again at the end unless ``--keep``), migrates it,
and creates through the services what a check needs: a team, a contributor and a manager, a
model whose version declares the benchmark's 25 columns as its input schema, a staging
deployment in live mode (no approval needed there) and the version's baseline profile, stored by
``baseline_create`` from the reference rows. The window's rows go into monitoring_prediction
with COPY (inputs as a JSON object of the 25 features, outputs a small object, predicted_at
spread over the last 24 hours) and the table is vacuum-analyzed, as autovacuum would leave it.

``monitoring.services.checks.drift_outcome`` is then timed (median after a warm-up), and its
two parts on their own: ``monitoring.window.window_columns`` (the read) and
``monitoring.stats.drift_report`` on the columns it read (the statistics).
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import dj_database_url
import numpy as np
import psycopg
from psycopg import sql

from bench.lineage import database_recreate, url_with_database

BENCH_DATABASE = "steward_bench_drift"
PREDICTION_COLUMNS = (
    "deployment_id",
    "request_id",
    "predicted_at",
    "received_at",
    "inputs",
    "outputs",
    "latency_ms",
    "protected",
    "numeric_inputs",
)


def postgres_server_url() -> tuple[str | None, str]:
    """DATABASE_URL when it names a PostgreSQL server, else None and why the part is skipped."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return None, "DATABASE_URL is not set"
    if dj_database_url.parse(url)["ENGINE"] != "django.db.backends.postgresql":
        return None, "DATABASE_URL does not name a PostgreSQL server"
    try:
        psycopg.connect(url_with_database(url, "postgres"), connect_timeout=5).close()
    except psycopg.Error as error:
        return None, f"cannot connect to the server: {str(error).strip().splitlines()[0]}"
    return url, ""


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
    gc.freeze()  # as config/wsgi.py does: start-up objects leave the collector's reach


# --- the governed objects -----------------------------------------------------------------------


def input_schema(kinds: dict[str, str]) -> dict[str, Any]:
    columns = [
        {"name": name, "type": "float64" if kind == "numeric" else "string"}
        for name, kind in kinds.items()
    ]
    return {"type": "tabular", "columns": columns}


OUTPUT_SCHEMA = {
    "columns": [{"name": "score", "type": "float64"}, {"name": "label", "type": "string"}]
}


def deployment_create_for(kinds: dict[str, str]):
    """A version declaring the benchmark's columns, deployed live in staging. Returns the
    deployment and the contributor who may store the version's baseline."""
    from accounts.choices import RoleName
    from accounts.services import role_assign, team_add_member, team_create, user_create
    from monitoring.services.deployments import deployment_create
    from registry.services import model_version_register, registered_model_create

    team = team_create(name="Bench", slug="bench")
    contributor = user_create(actor=None, username="bench-contributor")
    team_add_member(team=team, user=contributor)
    role_assign(user=contributor, role=RoleName.CONTRIBUTOR, team=team)
    manager = user_create(actor=None, username="bench-manager")
    role_assign(user=manager, role=RoleName.MANAGER)
    model = registered_model_create(actor=contributor, name="bench-drift", owner_team=team)
    version = model_version_register(
        actor=contributor,
        registered_model=model,
        artifact_uri="s3://bench/drift-model.pkl",
        artifact_sha256="0" * 64,
        framework="sklearn",
        input_schema=input_schema(kinds),
        output_schema=OUTPUT_SCHEMA,
    )
    deployment = deployment_create(
        actor=manager, version=version, name="bench-drift", environment="staging", mode="live"
    )
    return deployment, contributor


def records_of(columns: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Rows as JSON objects of the columns, with Python floats and strings."""
    names = list(columns)
    values = [columns[name].tolist() for name in names]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def baseline_store(actor, version, reference: dict[str, np.ndarray]):
    """The version's baseline profile stored by the service, from the reference rows; the
    seconds the service took (the rows are built before the clock starts)."""
    from monitoring.services.baselines import baseline_create

    rows = records_of(reference)
    started = time.perf_counter()
    baseline = baseline_create(actor=actor, version=version, rows=rows, source_label="bench")
    return baseline, time.perf_counter() - started


# --- the prediction log -------------------------------------------------------------------------


def prediction_rows(deployment_id, current, start, end, seed):
    """COPY rows of the window: predicted_at spread over [start, end) in arrival order (the log
    is appended to as predictions come), inputs the window's features as a JSON object."""
    from monitoring.models import Deployment
    from monitoring.schema import numeric_layout, numeric_vectors, schema_columns

    version = Deployment.objects.get(pk=deployment_id).model_version
    layout = numeric_layout(schema_columns(version.input_schema))
    rng = np.random.default_rng(seed)
    count = len(next(iter(current.values())))
    span = (end - start).total_seconds()
    offsets = np.sort(rng.uniform(0.0, span, count)).tolist()
    scores = rng.random(count).tolist()
    records = records_of(current)
    vectors = numeric_vectors(layout, records)  # as ingestion stores them beside the JSON
    for index, (features, offset, score, vector) in enumerate(
        zip(records, offsets, scores, vectors, strict=True)
    ):
        predicted_at = start + timedelta(seconds=offset)
        outputs = {"score": score, "label": "yes" if score > 0.5 else "no"}
        yield (
            deployment_id,
            f"bench-{index:07d}",
            predicted_at,
            predicted_at + timedelta(milliseconds=40),
            json.dumps(features),
            json.dumps(outputs),
            12.5,
            "{}",
            vector,
        )


def predictions_copy(bench_url: str, rows) -> None:
    """COPY the rows into the prediction log, then VACUUM ANALYZE it."""
    statement = sql.SQL("COPY monitoring_prediction ({}) FROM STDIN").format(
        sql.SQL(", ").join(map(sql.Identifier, PREDICTION_COLUMNS))
    )
    with psycopg.connect(bench_url) as conn, conn.cursor() as cursor:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        conn.autocommit = True
        cursor.execute("VACUUM (ANALYZE) monitoring_prediction")


# --- timing -------------------------------------------------------------------------------------


class Timed(NamedTuple):
    seconds: float  # wall clock, median
    cpu_seconds: float  # this process's CPU, median (the database's work is not in it)
    result: Any  # of the last run
    database_cpu_seconds: float | None = None  # the database backend's CPU, median, if known


def timed(
    call: Callable[[], Any],
    repeat: int,
    warmup: int = 1,
    database_cpu: Callable[[], float] | None = None,
) -> Timed:
    for _ in range(warmup):
        call()
    seconds, cpu_seconds, database_seconds, result = [], [], [], None
    for _ in range(repeat):
        gc.collect()
        database_started = database_cpu() if database_cpu else 0.0
        started, cpu_started = time.perf_counter(), time.process_time()
        result = call()
        seconds.append(time.perf_counter() - started)
        cpu_seconds.append(time.process_time() - cpu_started)
        if database_cpu:
            database_seconds.append(database_cpu() - database_started)
    database = statistics.median(database_seconds) if database_seconds else None
    return Timed(statistics.median(seconds), statistics.median(cpu_seconds), result, database)


def backend_cpu_clock() -> Callable[[], float] | None:
    """A clock of the CPU seconds (user + system) the PostgreSQL backend serving Django's
    connection has used, read from /proc when the server runs on this machine; None when it
    does not (or /proc shows some other process under that id, as from a container). On a
    shared machine the wall clock mostly measures waiting for a core; CPU time does not."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    stat = Path(f"/proc/{pid}/stat")
    try:
        if not Path(f"/proc/{pid}/comm").read_text().startswith("postgres"):
            return None
        stat.read_text()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")

    def clock() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime

    return clock


class EndToEnd(NamedTuple):
    check: Timed  # drift_outcome: read + statistics
    read: Timed  # window_columns
    statement_seconds: float  # of the read: its SQL statement (database + transfer), median
    compute: Timed  # drift_report on what window_columns read
    baseline_seconds: float
    load_seconds: float
    exact: bool  # every window column read back holds the values loaded
    statements: int  # the read's statements
    partitions: tuple[list[str], int]  # the partitions the read scans, of how many


def end_to_end_time(deployment, baseline, start: datetime, end: datetime, repeat: int):
    """Time the check, its read (and the read's SQL statement alone) and its statistics, each
    after a warm-up."""
    from django.db import connection

    from monitoring import stats
    from monitoring.services.checks import _profile_columns, drift_outcome
    from monitoring.window import window_columns

    columns = _profile_columns(baseline.inputs, deployment.model_version.input_schema)
    statement_seconds: list[float] = []  # per read: all its statements together

    def statement_timed(execute, statement, params, many, context):
        # psycopg's execute returns once the whole result is in the client: this is the
        # database's work and the transfer; turning it into arrays comes after.
        started = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            statement_seconds[-1] += time.perf_counter() - started

    def read():
        statement_seconds.append(0.0)
        with connection.execute_wrapper(statement_timed):
            return window_columns(deployment, start=start, end=end, inputs=columns, outputs=[])

    clock = backend_cpu_clock()
    check = timed(lambda: drift_outcome(deployment, baseline, start, end), repeat, 1, clock)
    window = timed(read, repeat, 1, clock)
    compute = timed(lambda: stats.drift_report(baseline.inputs, window.result.inputs), repeat)
    return check, window, statistics.median(statement_seconds[-repeat:]), compute


def read_back_exact(window_inputs: dict[str, np.ndarray], current: dict[str, np.ndarray]) -> bool:
    """Whether each column read from the log holds the loaded values (in any order)."""
    for name, values in current.items():
        read = window_inputs.get(name)
        if read is None or len(read) != len(values):
            return False
        if not np.array_equal(np.sort(read), np.sort(values)):
            return False
    return True


def window_statements(deployment, start: datetime, end: datetime, columns) -> list[tuple]:
    """The statements (with their parameters) window_columns runs for this window that read
    the log (not the transaction and the planner setting around them)."""
    from django.db import connection

    from monitoring.window import window_columns

    captured: list[tuple[str, Any]] = []

    def capture(execute, statement, params, many, context):
        if "monitoring_prediction" in statement:
            captured.append((statement, params))
        return execute(statement, params, many, context)

    with connection.execute_wrapper(capture):
        window_columns(deployment, start=start, end=end, inputs=columns, outputs=[])
    return captured


def explain(statement: str, params, options: str = "") -> list[str]:
    """The plan of a window statement as the read runs it: with its planner setting."""
    from django.db import connection, transaction

    from monitoring.window import PARALLEL_TUPLE_COST

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('parallel_tuple_cost', %s, true)", [PARALLEL_TUPLE_COST])
        cursor.execute(f"EXPLAIN {options}{statement}", params)
        return [line for (line,) in cursor.fetchall()]


def partitions_read(statements: list[tuple]) -> tuple[list[str], int]:
    """The partitions of the log that the plans of ``statements`` scan, and how many the log
    has: PostgreSQL prunes the others at planning."""
    from monitoring.partitions import partition_list

    plans = "\n".join(line for statement in statements for line in explain(*statement))
    names = [p.name for p in partition_list()]
    return [name for name in names if f" {name} " in plans], len(names)


# --- the whole part -----------------------------------------------------------------------------


def end_to_end_run(server_url: str, reference, current, kinds, args) -> EndToEnd:
    """Create and fill the bench database, time the check on it, and drop it (unless keep)."""
    bench_url = url_with_database(server_url, BENCH_DATABASE)
    database_recreate(server_url, BENCH_DATABASE)
    try:
        django_setup(bench_url)
        return _fill_and_time(bench_url, reference, current, kinds, args)
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep:
            print(f"kept database {BENCH_DATABASE}")
        else:
            database_recreate(server_url, BENCH_DATABASE, create=False)


def _fill_and_time(bench_url, reference, current, kinds, args) -> EndToEnd:
    from django.utils import timezone

    from monitoring.services.checks import _profile_columns

    deployment, contributor = deployment_create_for(kinds)
    baseline, baseline_seconds = baseline_store(contributor, deployment.model_version, reference)
    end = timezone.now().replace(microsecond=0)
    start = end - timedelta(hours=24)
    started = time.perf_counter()
    predictions_copy(bench_url, prediction_rows(deployment.pk, current, start, end, args.seed))
    load_seconds = time.perf_counter() - started
    gc.collect()
    check, read, statement, compute = end_to_end_time(deployment, baseline, start, end, args.repeat)
    exact = read_back_exact(read.result.inputs, current)
    columns = _profile_columns(baseline.inputs, deployment.model_version.input_schema)
    statements = window_statements(deployment, start, end, columns)
    if args.explain:
        for sql_and_params in statements:
            print("EXPLAIN (ANALYZE, BUFFERS) of the window read:")
            for line in explain(*sql_and_params, options="(ANALYZE, BUFFERS) "):
                print(f"    {line}")
    partitions = partitions_read(statements)
    return EndToEnd(
        check,
        read,
        statement,
        compute,
        baseline_seconds,
        load_seconds,
        exact,
        len(statements),
        partitions,
    )
