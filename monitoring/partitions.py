"""The prediction log's time partitions on PostgreSQL.

``monitoring_prediction`` (predictions and their ground truth, one row each) is range-partitioned
by ``predicted_at``: one partition per month by default (``STEWARD_PREDICTION_PARTITION``:
``month``, ``week`` or ``day``), created ``STEWARD_PREDICTION_PARTITIONS_AHEAD`` periods ahead by
celery beat (``monitoring.ensure_prediction_partitions``), and a default partition for rows no
period holds yet (a gateway back-filling last year). Window queries name ``predicted_at`` with
constants, so PostgreSQL reads only the partitions of the window, and retention drops a whole
expired partition instead of deleting its rows (``monitoring.services.retention``).

A partitioned table can only enforce keys that include the partition column, so the primary
key is (id, predicted_at) in the database (the Django model keeps ``id``: ids come from one
identity sequence and stay unique) and the unique request ids live in ``PredictionKey``,
filled and emptied by statement triggers; the keys of a dropped partition's rows are removed
after the drop, in batches (:func:`dropped_keys_remove`).

The DDL is written here rather than taken from django-postgres-extra, whose partitioning needs
its own database ENGINE for the whole project (and its own migration operations and manager);
what Steward needs is a dozen statements. SQLite keeps the plain table: every function here is a
no-op there."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection as default_connection
from django.db import transaction
from django.utils import timezone

TABLE = "monitoring_prediction"
DEFAULT = "monitoring_prediction_default"
KEYS = "monitoring_prediction_key"
UNITS = ("month", "week", "day")

_TRIGGERS = """
CREATE OR REPLACE FUNCTION monitoring_prediction_keys_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO monitoring_prediction_key (deployment_id, request_id, predicted_at)
    SELECT deployment_id, request_id, predicted_at FROM new_rows;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION monitoring_prediction_keys_remove() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM monitoring_prediction_key k USING old_rows o
    WHERE k.deployment_id = o.deployment_id AND k.request_id = o.request_id;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION monitoring_prediction_keys_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- DELETE, not TRUNCATE: a flush truncates both tables in one statement.
    DELETE FROM monitoring_prediction_key;
    RETURN NULL;
END $$;
CREATE TRIGGER monitoring_prediction_keys_add AFTER INSERT ON monitoring_prediction
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION monitoring_prediction_keys_add();
CREATE TRIGGER monitoring_prediction_keys_remove AFTER DELETE ON monitoring_prediction
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION monitoring_prediction_keys_remove();
CREATE TRIGGER monitoring_prediction_keys_truncate AFTER TRUNCATE ON monitoring_prediction
    FOR EACH STATEMENT EXECUTE FUNCTION monitoring_prediction_keys_truncate();
"""

_DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS monitoring_prediction_keys_add ON monitoring_prediction;
DROP TRIGGER IF EXISTS monitoring_prediction_keys_remove ON monitoring_prediction;
DROP TRIGGER IF EXISTS monitoring_prediction_keys_truncate ON monitoring_prediction;
DROP FUNCTION IF EXISTS monitoring_prediction_keys_add();
DROP FUNCTION IF EXISTS monitoring_prediction_keys_remove();
DROP FUNCTION IF EXISTS monitoring_prediction_keys_truncate();
"""


@dataclass(frozen=True)
class Partition:
    """One partition of the log: its range [start, end) (None for the default partition),
    its estimated rows (the planner's statistics) and its size on disk with indexes."""

    name: str
    start: datetime | None
    end: datetime | None
    rows_estimate: int
    size_bytes: int

    @property
    def is_default(self) -> bool:
        return self.start is None


def partition_unit() -> str:
    unit = getattr(settings, "STEWARD_PREDICTION_PARTITION", "month")
    if unit not in UNITS:
        raise ValueError(f"STEWARD_PREDICTION_PARTITION must be one of {', '.join(UNITS)}")
    return unit


def period_of(moment: datetime, unit: str | None = None) -> tuple[datetime, datetime]:
    """The period [start, end) holding ``moment``, in UTC."""
    unit = unit or partition_unit()
    moment = moment.astimezone(UTC)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "day":
        return day, day + timedelta(days=1)
    if unit == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    start = day.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def partition_name(start: datetime) -> str:
    return f"{TABLE}_p{start:%Y%m%d}"


def is_partitioned(connection=None) -> bool:
    connection = connection or default_connection
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [TABLE]
        )
        return cursor.fetchone() is not None


_BOUND = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")


def _parse_moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def partition_list(connection=None) -> list[Partition]:
    """Every partition of the log, oldest first, the default one last. Empty on SQLite."""
    connection = connection or default_connection
    if not is_partitioned(connection):
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), "
            "greatest(c.reltuples, 0)::bigint, pg_total_relation_size(c.oid) "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [TABLE],
        )
        rows = cursor.fetchall()
    partitions = []
    for name, bound, estimate, size in rows:
        match = _BOUND.search(bound or "")
        start, end = (
            (_parse_moment(match.group(1)), _parse_moment(match.group(2)))
            if match
            else (None, None)
        )
        partitions.append(Partition(name, start, end, int(estimate), int(size)))
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(partitions, key=lambda p: (p.start or far, p.name))


def partition_row_counts(partition: Partition, connection=None) -> dict[int, int]:
    """Exact rows per deployment of one partition."""
    connection = connection or default_connection
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT deployment_id, count(*) FROM ONLY "{partition.name}" '  # noqa: S608
            "GROUP BY deployment_id"
        )
        return dict(cursor.fetchall())


def _literal(moment: datetime) -> str:
    """A timestamp as a SQL literal, for DDL (which takes no bound parameters)."""
    return f"'{moment.astimezone(UTC).isoformat()}'::timestamptz"


def partition_deployments(partition: Partition, connection=None) -> list[int]:
    """The deployments with rows in one partition, by a skip scan of its window index (one
    probe per deployment, not a read of every row)."""
    connection = connection or default_connection
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE seen(id) AS ("  # noqa: S608 - fixed names
            f'(SELECT min(deployment_id) FROM ONLY "{partition.name}") UNION ALL '
            f'SELECT (SELECT min(deployment_id) FROM ONLY "{partition.name}" '
            "WHERE deployment_id > seen.id) FROM seen WHERE seen.id IS NOT NULL) "
            "SELECT id FROM seen WHERE id IS NOT NULL"
        )
        return [r[0] for r in cursor.fetchall()]


def _create(cursor, start: datetime, end: datetime) -> str:
    """Create the partition [start, end), first moving out of the default partition the rows
    it will hold (PostgreSQL refuses a partition whose rows sit in the default one)."""
    name = partition_name(start)
    cursor.execute(
        f"SELECT EXISTS (SELECT 1 FROM {DEFAULT} "  # noqa: S608 - fixed names
        "WHERE predicted_at >= %s AND predicted_at < %s)",
        [start, end],
    )
    stranded = cursor.fetchone()[0]
    if stranded:
        # Direct statements on the partitions: the key triggers of the parent do not fire, and
        # the keys of the moved rows stay as they are.
        cursor.execute(
            f"CREATE TEMPORARY TABLE steward_moving ON COMMIT DROP AS SELECT * FROM {DEFAULT} "  # noqa: S608
            f"WHERE predicted_at >= {_literal(start)} AND predicted_at < {_literal(end)}"
        )
        cursor.execute(
            f"DELETE FROM {DEFAULT} WHERE predicted_at >= %s AND predicted_at < %s",  # noqa: S608
            [start, end],
        )
    cursor.execute(
        f'CREATE TABLE "{name}" PARTITION OF {TABLE} '
        f"FOR VALUES FROM ({_literal(start)}) TO ({_literal(end)})"
    )
    if stranded:
        cursor.execute(f'INSERT INTO "{name}" SELECT * FROM steward_moving')  # noqa: S608
        cursor.execute("DROP TABLE steward_moving")
    return name


def _missing_periods(
    existing: list[Partition], first: datetime, last: datetime, unit: str
) -> list[tuple[datetime, datetime]]:
    """The periods from the one holding ``first`` to the one holding ``last`` that overlap no
    existing partition (a changed STEWARD_PREDICTION_PARTITION leaves the old ones be)."""
    taken = [(p.start, p.end) for p in existing if not p.is_default]
    periods, start = [], period_of(first, unit)[0]
    while start <= last:
        start, end = period_of(start, unit)
        if not any(s < end and start < e for s, e in taken):
            periods.append((start, end))
        start = end
    return periods


def partitions_ensure(
    *, now: datetime | None = None, since: datetime | None = None, connection=None
) -> list[str]:
    """Create the partitions of the current period and the next ``ahead`` ones, and the ones
    for rows waiting in the default partition (and, given ``since``, every period from the one
    holding it: an import of old predictions); return the names created. Idempotent."""
    connection = connection or default_connection
    if not is_partitioned(connection):
        return []
    unit = partition_unit()
    ahead = int(getattr(settings, "STEWARD_PREDICTION_PARTITIONS_AHEAD", 3))
    now = now or timezone.now()
    last = now
    for _ in range(ahead):
        last = period_of(last, unit)[1]
    created = []
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {TABLE} IN SHARE UPDATE EXCLUSIVE MODE")
        cursor.execute(f"SELECT min(predicted_at) FROM {DEFAULT}")  # noqa: S608
        oldest = cursor.fetchone()[0]
        first = min(m for m in (oldest, since, now) if m is not None)
        current = period_of(since or now, unit)[0]
        for start, end in _missing_periods(partition_list(connection), first, last, unit):
            if end <= current and not _has_rows(cursor, start, end):
                continue  # a past period without rows needs no partition
            created.append(_create(cursor, start, end))
    return created


def _has_rows(cursor, start: datetime, end: datetime) -> bool:
    cursor.execute(
        f"SELECT EXISTS (SELECT 1 FROM {DEFAULT} "  # noqa: S608
        "WHERE predicted_at >= %s AND predicted_at < %s)",
        [start, end],
    )
    return cursor.fetchone()[0]


def partition_drop(partition: Partition, connection=None) -> None:
    """Drop one partition. The caller decides it may (``monitoring.services.retention``),
    records it, and has :func:`dropped_keys_remove` run after the commit: the request-id keys of
    the dropped rows stay until then, and their ids are refused meanwhile, as they were while
    the rows were there. (Deleting a month's keys here took longer than the drop itself, all of
    it under the lock that stops the whole log.)"""
    if partition.is_default:
        raise ValueError("The default partition is never dropped.")
    connection = connection or default_connection
    with connection.cursor() as cursor:
        # Checks deferred to the commit (foreign keys of rows written in this transaction) run
        # now: PostgreSQL drops no table with pending trigger events.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f'DROP TABLE "{partition.name}"')


# --- the keys of dropped partitions --------------------------------------------------------

KEY_BATCH = 50_000
_FAR_PAST = datetime(1, 1, 2, tzinfo=UTC)

# One batch: the end of the slice from %(since)s holding about %(batch)s keys (None: the rest of
# the stretch), by the keys' time index.
_SLICE_END = f"""
SELECT predicted_at FROM {KEYS} WHERE predicted_at > %(since)s AND predicted_at < %(end)s
ORDER BY predicted_at OFFSET %(batch)s LIMIT 1
"""  # noqa: S608 - fixed names
# The orphaned keys of the slice [%(since)s, %(until)s) of the uncovered stretch
# [%(start)s, %(end)s): keys whose row is not in the log. In an uncovered stretch a row can
# only be in the default partition (the stretch is named with constants: only it is read).
_ORPHANS_DELETE = f"""
DELETE FROM {KEYS} k WHERE k.predicted_at >= %(since)s AND k.predicted_at < %(until)s
AND NOT EXISTS (
    SELECT 1 FROM {TABLE} p
    WHERE p.predicted_at >= %(start)s AND p.predicted_at < %(end)s
    AND p.deployment_id = k.deployment_id AND p.request_id = k.request_id
)
"""  # noqa: S608 - fixed names


def uncovered_ranges(partitions: list[Partition]) -> list[tuple[datetime, datetime]]:
    """The stretches of time before the last partition's end that no partition but the default
    one covers: where dropped partitions were (and past periods never given one)."""
    ranges, reached = [], _FAR_PAST
    for partition in partitions:
        if partition.is_default:
            continue
        if partition.start > reached:
            ranges.append((reached, partition.start))
        reached = max(reached, partition.end)
    return ranges


def dropped_keys_remove(*, batch: int = KEY_BATCH, connection=None) -> int:
    """Delete the request-id keys whose rows went with a dropped partition, a slice of about
    ``batch`` keys at a time, each a transaction of its own; return how many. Idempotent, and
    safe beside ingestion: a key is deleted only when no row of the log holds it, a key being
    written is not yet visible, and each slice holds the log's SHARE UPDATE EXCLUSIVE lock (as
    :func:`partitions_ensure` does), so no partition appears or goes while it decides."""
    connection = connection or default_connection
    if not is_partitioned(connection):
        return 0
    removed, since = 0, _FAR_PAST
    while True:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {TABLE} IN SHARE UPDATE EXCLUSIVE MODE")
            ranges = uncovered_ranges(partition_list(connection))
            stretch = next(((s, e) for s, e in ranges if e > since), None)
            if stretch is None:
                return removed
            params = {"start": stretch[0], "end": stretch[1], "since": max(stretch[0], since)}
            cursor.execute(_SLICE_END, {**params, "batch": batch})
            row = cursor.fetchone()
            params["until"] = row[0] if row else stretch[1]
            cursor.execute(_ORPHANS_DELETE, params)
            removed += cursor.rowcount
            since = params["until"]


# --- the migration --------------------------------------------------------------------------


def _index_names(cursor, table: str) -> list[str]:
    cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
    return [r[0] for r in cursor.fetchall()]


def _fk_name(cursor, table: str) -> str:
    cursor.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype = 'f'",
        [table],
    )
    row = cursor.fetchone()
    return row[0] if row else "monitoring_prediction_deployment_id_fk_monitoring_deployment_id"


def _identity_restart(cursor, table: str) -> None:
    cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")  # noqa: S608
    cursor.execute(f"ALTER TABLE {table} ALTER COLUMN id RESTART WITH {int(cursor.fetchone()[0])}")


def partitioning_install(schema_editor) -> None:
    """Turn the plain log into the partitioned one, keeping every row (and its id): the plain
    table is renamed, the partitioned one created under its name with partitions from the
    oldest row's period to the ones ahead, the rows and their keys copied, the plain table
    dropped. One transaction (the migration's): a failure changes nothing."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql" or is_partitioned(connection):
        return
    old = f"{TABLE}_unpartitioned"
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        fk = _fk_name(cursor, TABLE)
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {old}")
        for index in _index_names(cursor, old):
            cursor.execute(f'ALTER INDEX "{index}" RENAME TO "{index[:55]}_unpart"')
        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {old} INCLUDING DEFAULTS INCLUDING IDENTITY) "
            "PARTITION BY RANGE (predicted_at)"
        )
        cursor.execute(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id, predicted_at)"
        )
        cursor.execute(f"CREATE INDEX prediction_window ON {TABLE} (deployment_id, predicted_at)")
        cursor.execute(f"CREATE INDEX prediction_request_id ON {TABLE} (request_id)")
        cursor.execute(
            f'ALTER TABLE {TABLE} ADD CONSTRAINT "{fk}" FOREIGN KEY (deployment_id) '
            "REFERENCES monitoring_deployment (id) DEFERRABLE INITIALLY DEFERRED"
        )
        cursor.execute(f"CREATE TABLE {DEFAULT} PARTITION OF {TABLE} DEFAULT")
        cursor.execute(f"SELECT min(predicted_at) FROM {old}")  # noqa: S608
        oldest = cursor.fetchone()[0]
        now = timezone.now()
        unit = partition_unit()
        last = now
        for _ in range(int(getattr(settings, "STEWARD_PREDICTION_PARTITIONS_AHEAD", 3))):
            last = period_of(last, unit)[1]
        for start, end in _missing_periods([], min(oldest, now) if oldest else now, last, unit):
            cursor.execute(
                f'CREATE TABLE "{partition_name(start)}" PARTITION OF {TABLE} '
                f"FOR VALUES FROM ({_literal(start)}) TO ({_literal(end)})"
            )
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {old}")  # noqa: S608
        cursor.execute(
            f"INSERT INTO {KEYS} (deployment_id, request_id, predicted_at) "  # noqa: S608
            f"SELECT deployment_id, request_id, predicted_at FROM {old}"
        )
        _identity_restart(cursor, TABLE)
        cursor.execute(f"DROP TABLE {old}")
        cursor.execute(_TRIGGERS)
        cursor.execute(f"ANALYZE {TABLE}")


def partitioning_remove(schema_editor) -> None:
    """The way back: one plain table with every row, its id, unique request ids and the
    indexes the earlier migrations made."""
    connection = schema_editor.connection
    if not is_partitioned(connection):
        return
    old = f"{TABLE}_partitioned"
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        fk = _fk_name(cursor, TABLE)
        cursor.execute(_DROP_TRIGGERS)
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {old}")
        for index in _index_names(cursor, old):
            cursor.execute(f'ALTER INDEX "{index}" RENAME TO "{index[:55]}_part"')
        cursor.execute(f"CREATE TABLE {TABLE} (LIKE {old} INCLUDING DEFAULTS INCLUDING IDENTITY)")
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {old}")  # noqa: S608
        _identity_restart(cursor, TABLE)
        cursor.execute(f"DROP TABLE {old}")
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id)")
        cursor.execute(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT unique_prediction_request "
            "UNIQUE (deployment_id, request_id)"
        )
        cursor.execute(f"CREATE INDEX prediction_window ON {TABLE} (deployment_id, predicted_at)")
        cursor.execute(f"CREATE INDEX prediction_request_id ON {TABLE} (request_id)")
        fk_index = schema_editor._create_index_name(TABLE, ["deployment_id"], suffix="")
        cursor.execute(f'CREATE INDEX "{fk_index}" ON {TABLE} (deployment_id)')
        cursor.execute(
            f'ALTER TABLE {TABLE} ADD CONSTRAINT "{fk}" FOREIGN KEY (deployment_id) '
            "REFERENCES monitoring_deployment (id) DEFERRABLE INITIALLY DEFERRED"
        )
        cursor.execute(f"TRUNCATE {KEYS}")
