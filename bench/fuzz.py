"""Schemathesis over every API operation, with many examples: the long form of
``tests/hardening/test_api_fuzz.py`` (same harness, ``tests/hardening/fuzz.py``).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/steward \
        .venv/bin/python bench/fuzz.py --examples 100
    DATABASE_URL= .venv/bin/python bench/fuzz.py --examples 100    # SQLite

With a PostgreSQL DATABASE_URL the server is used, never that database: the run creates its own,
``steward_bench_fuzz`` (dropped first if it exists, and again at the end unless ``--keep``), and
migrates it. With an empty DATABASE_URL it migrates a throwaway SQLite file in a temporary folder.
The world is seeded once and every pass runs inside one transaction that is rolled back, as in
the test suite (so queued Celery work, e.g. document rendering, is never started).

Prints a table: per operation and pass, the examples sent, the statuses seen and the failures;
then every failure with the request that reproduces it. The last two lines are
``operations: X  examples: Y`` and ``fuzz failures: N``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BENCH_DATABASE = "steward_bench_fuzz"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100, help="examples per operation")
    parser.add_argument(
        "--only", action="append", help="run only these passes (admin, admin-negative, ...)"
    )
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DATABASE} database")
    return parser.parse_args()


def database_url_prepare(server_url: str, workdir: Path) -> tuple[str, bool]:
    """A URL of a fresh database for the run, and whether it is a PostgreSQL one to drop."""
    if not server_url:
        return f"sqlite:///{workdir / 'fuzz.sqlite3'}", False
    from bench.lineage import database_recreate, url_with_database

    database_recreate(server_url, BENCH_DATABASE)
    return url_with_database(server_url, BENCH_DATABASE), True


def django_setup(url: str, workdir: Path) -> None:
    os.environ["DATABASE_URL"] = url
    # The test settings: they bring their own throwaway secret key and plain-http transport.
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.test_settings"
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    settings.ARTIFACT_ROOT = workdir / "artifacts"
    settings.DOCUMENTS_ROOT = workdir / "documents"
    call_command("migrate", verbosity=0, interactive=False)


class Rollback(Exception):
    """Raised to end the run's transaction without keeping anything."""


def fuzz(examples: int, only: set[str] | None):
    from django.db import transaction

    from tests.hardening.fuzz import fuzz_run, world_seed

    tallies = []
    try:
        with transaction.atomic():
            tallies = fuzz_run(world_seed(), examples=examples, only=only)
            raise Rollback
    except Rollback:
        pass
    return tallies


def report(tallies, seconds: float) -> None:
    from tests.hardening.fuzz import failures_of

    print(f"{'pass':<15} {'operation':<92} {'examples':>8}  {'fail':>4}  statuses")
    for tally in tallies:
        statuses = " ".join(f"{code}x{n}" for code, n in sorted(tally.statuses.items()))
        note = " (nothing to invalidate)" if tally.nothing_to_invalidate else ""
        print(
            f"{tally.pass_name:<15} {tally.operation:<92} {tally.examples:>8}  "
            f"{len(tally.failures):>4}  {statuses}{note}"
        )
    failures = failures_of(tallies)
    for failure in failures:
        print("\n" + failure)
    by_pass = defaultdict(int)
    for tally in tallies:
        by_pass[tally.pass_name] += tally.examples
    print()
    print("examples per pass: " + ", ".join(f"{name} {n}" for name, n in by_pass.items()))
    print(f"time: {seconds:.1f} s")
    operations = len({tally.operation for tally in tallies})
    print(f"operations: {operations}  examples: {sum(t.examples for t in tallies)}")
    print(f"fuzz failures: {len(failures)}")


def main() -> int:
    args = parse_args()
    server_url = os.environ.get("DATABASE_URL", "")
    with tempfile.TemporaryDirectory(prefix="steward-fuzz-") as folder:
        workdir = Path(folder)
        url, drop = database_url_prepare(server_url, workdir)
        target = urlsplit(url)
        print(f"database: {target.scheme} {target.path}  examples per operation: {args.examples}")
        django_setup(url, workdir)
        started = time.perf_counter()
        tallies = fuzz(args.examples, set(args.only) if args.only else None)
        report(tallies, time.perf_counter() - started)
        if drop and not args.keep:
            from django.db import connections

            from bench.lineage import database_recreate

            connections.close_all()
            database_recreate(server_url, BENCH_DATABASE, create=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
