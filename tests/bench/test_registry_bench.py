"""bench/registry.py cannot rot: its name plan gives every prefix search exactly one family,
and the whole benchmark runs end to end with tiny sizes against Steward alone (a real gunicorn
on a fresh PostgreSQL database), printing every workload's numbers and the last line."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from bench.lineage import url_with_database
from bench.registry import FULL, TITLES, plan_make
from bench.registry_servers import STEWARD_DATABASE
from tests.services import require_postgres

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--models", "6", "--versions", "2", "--gets", "20", "--lists", "6", "--searches", "6"]
NUMBERS = re.compile(
    r"\s+\d+ req\s+[\d.]+ req/s\s+p50\s+[\d.]+ ms\s+p99\s+[\d.]+ ms\s+\| CPU server\s+[\d.]+ s"
)


def plan_of(**sizes):
    return plan_make(argparse.Namespace(**{**FULL, "seed": 1, **sizes}))


def test_it_splits_the_default_models_into_two_prefixes_of_100():
    plan = plan_of()
    assert plan.families == {"bench-a-": 100, "bench-b-": 100}
    assert plan.page_size == 100
    assert len(set(plan.names)) == 200


@pytest.mark.parametrize("models", [2, 7, 20, 250, 1001])
def test_it_gives_each_prefix_exactly_its_family(models):
    plan = plan_of(models=models)
    assert len(plan.families) >= 2
    assert max(plan.families.values()) <= 100
    for prefix, count in plan.families.items():
        assert sum(name.startswith(prefix) for name in plan.names) == count
    assert sum(plan.families.values()) == models


@pytest.mark.postgres
def test_it_runs_against_steward_alone_and_ends_with_the_ratio_line():
    require_postgres()
    server_url = os.environ["DATABASE_URL"]
    command = [sys.executable, "bench/registry.py", *TINY, "--clients", "2", "--web-workers", "2"]
    done = subprocess.run(
        [*command, "--skip-mlflow"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    lines = done.stdout.strip().splitlines()
    assert lines[-1] == "ratio steward/mlflow (worst workload): n/a"
    for title in TITLES.values():
        measured = [line for line in lines if line.strip().startswith(title)]
        assert len(measured) == 1, output
        assert NUMBERS.search(measured[0]), measured[0]
    with psycopg.connect(url_with_database(server_url, "postgres")) as conn:
        left = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [STEWARD_DATABASE])
        assert left.fetchone() is None, "the benchmark's database was not dropped"
