"""Benchmark of the drift check on a window of production size, against Evidently.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/steward .venv/bin/python bench/drift.py \
        [--rows 200000] [--repeat 7] [--evidently-runs 2] [--keep] [--explain]

Generates (seeded) a reference set and a current window of ``--rows`` rows and 25 features: 20
numeric of varied shapes (skewed, heavy-tailed, bounded, discrete, zero-inflated, bimodal) and
5 categorical (2 to 40 categories), four of them shifted in the window and one nudged by a
trivial amount. It builds the baseline profile once (timed), passes it through JSON as it is
stored, then times ``monitoring.stats.drift_report`` on the window held in memory: median of
``--repeat`` runs after a warm-up.

Then the honest figure, end to end: when DATABASE_URL names a PostgreSQL server,
bench/drift_postgres.py creates a database of its own (``steward_bench_drift``; the one named is
never touched), stores the baseline through ``baseline_create``, loads the window into the
prediction log with COPY and times ``monitoring.services.checks.drift_outcome`` as the product
runs it: the window read from PostgreSQL (``monitoring.window.window_columns``, also timed on
its own, with the partitions its statements scan) and the statistics. Beside each wall-clock
median, the CPU seconds of this process and of the database backend (read from /proc when the
server runs here): on a shared machine the wall clock also counts waiting for a core.
``--explain`` prints the read's EXPLAIN ANALYZE. Without PostgreSQL that part is skipped and the
reason printed.

Evidently is not a dependency of Steward. The same data is written to var/bench-drift/ and
bench/evidently_drift.py runs Evidently's DataDriftPreset on it in a venv of its own,
var/bench-evidently-venv, created here on first use (``EVIDENTLY_REQUIREMENTS``). Evidently
compares the raw reference rows with the in-memory window on every run, where Steward reads a
stored profile: that difference is part of what is measured. Without Evidently (no network,
say) the reason is printed instead.

Both speedups are printed (Evidently seconds / Steward in memory, and / Steward end to end).
The last line is ``speedup vs evidently: X.X`` from the end-to-end figure when PostgreSQL was
there (the conservative one), else from the in-memory one; or ``speedup vs evidently: n/a``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitoring.stats import baseline_profile_build, drift_report  # noqa: E402

DATA_DIR = ROOT / "var" / "bench-drift"
EVIDENTLY_VENV = ROOT / "var" / "bench-evidently-venv"
# evidently 0.7.x imports pandas internals that pandas 3 removed, hence the cap.
EVIDENTLY_REQUIREMENTS = ("evidently==0.7.23", "pandas>=2.2,<3")
TARGET_SECONDS = 2.0  # the budget for the drift check of a 200,000-row window
SHIFTED = ("n00_normal", "n05_beta", "n11_age", "c1_plan", "c3_city")
NUDGED = ("n02_exponential",)

Generator = Callable[[np.random.Generator, int, bool], np.ndarray]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=20250601)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--evidently-runs", type=int, default=2)
    parser.add_argument("--skip-evidently", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the steward_bench_drift database")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the window read")
    return parser.parse_args()


# --- the data -----------------------------------------------------------------------------------


def categories(prefix: str, count: int) -> np.ndarray:
    return np.array([f"{prefix}-{i}" for i in range(count)], dtype=object)


def zipf_weights(count: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, count + 1)
    return weights / weights.sum()


CITIES = categories("city", 40)
PLANS = np.array(["free", "basic", "pro", "team", "enterprise"], dtype=object)

# name -> f(rng, rows, shifted); a shifted feature changes only when ``shifted`` is true.
FEATURES: dict[str, Generator] = {
    "n00_normal": lambda r, n, s: r.normal(50.0 + (5.0 if s else 0.0), 10.0, n),
    "n01_lognormal": lambda r, n, s: r.lognormal(3.0, 0.8, n),
    "n02_exponential": lambda r, n, s: r.exponential(2.0 * (1.03 if s else 1.0), n),
    "n03_uniform": lambda r, n, s: r.uniform(0.0, 100.0, n),
    "n04_gamma": lambda r, n, s: r.gamma(2.0, 3.0, n),
    "n05_beta": lambda r, n, s: r.beta(5.0 if s else 2.0, 5.0, n),
    "n06_student": lambda r, n, s: r.standard_t(4, n),
    "n07_poisson": lambda r, n, s: r.poisson(3.0, n).astype(np.float64),
    "n08_binomial": lambda r, n, s: r.binomial(20, 0.3, n).astype(np.float64),
    "n09_zero_inflated": lambda r, n, s: np.where(r.random(n) < 0.3, 0.0, r.exponential(5.0, n)),
    "n10_bimodal": lambda r, n, s: np.where(
        r.random(n) < 0.5, r.normal(-2, 1, n), r.normal(3, 1, n)
    ),
    "n11_age": lambda r, n, s: np.clip(r.normal(40 + (5 if s else 0), 12, n).round(), 18, 90),
    "n12_price": lambda r, n, s: r.lognormal(3.5, 0.5, n).round(2),
    "n13_weibull": lambda r, n, s: r.weibull(1.5, n),
    "n14_lomax": lambda r, n, s: r.pareto(3.0, n),
    "n15_logistic": lambda r, n, s: r.logistic(0.0, 2.0, n),
    "n16_chisquare": lambda r, n, s: r.chisquare(4, n),
    "n17_laplace": lambda r, n, s: r.laplace(10.0, 2.0, n),
    "n18_triangular": lambda r, n, s: r.triangular(0.0, 2.0, 10.0, n),
    "n19_geometric": lambda r, n, s: r.geometric(0.2, n).astype(np.float64),
    "c0_flag": lambda r, n, s: np.array(["no", "yes"], dtype=object)[
        (r.random(n) < 0.3).astype(int)
    ],
    "c1_plan": lambda r, n, s: PLANS[
        r.choice(5, n, p=[0.2, 0.2, 0.2, 0.2, 0.2] if s else [0.4, 0.3, 0.15, 0.1, 0.05])
    ],
    "c2_device": lambda r, n, s: np.array(["ios", "android", "web"], dtype=object)[
        r.choice(3, n, p=[0.3, 0.5, 0.2])
    ],
    # When shifted, 15 % of the window comes from cities the reference never saw.
    "c3_city": lambda r, n, s: np.where(
        r.random(n) < (0.15 if s else 0.0),
        categories("new-city", 10)[r.integers(0, 10, n)],
        CITIES[r.choice(40, n, p=zipf_weights(40))],
    ),
    "c4_channel": lambda r, n, s: categories("channel", 12)[r.choice(12, n, p=zipf_weights(12))],
}


def dataset_generate(seed: int, rows: int, shifted: bool) -> dict[str, np.ndarray]:
    """One seeded set of all FEATURES (shifted ones moved when ``shifted``)."""
    rng = np.random.default_rng(seed)
    return {name: generate(rng, rows, shifted) for name, generate in FEATURES.items()}


def kinds_of(columns: dict[str, np.ndarray]) -> dict[str, str]:
    return {
        name: "categorical" if values.dtype == object else "numeric"
        for name, values in columns.items()
    }


# --- Steward ------------------------------------------------------------------------------------


def steward_profile_build(reference: dict[str, np.ndarray]) -> tuple[dict[str, Any], float]:
    """The baseline profile as stored (through JSON), and the seconds its build took."""
    started = time.perf_counter()
    profile = baseline_profile_build(reference, kinds_of(reference))
    seconds = time.perf_counter() - started
    return json.loads(json.dumps(profile, allow_nan=False)), seconds


class DriftTiming(NamedTuple):
    seconds: float  # wall clock, median
    report: dict[str, Any]
    cpu_seconds: float  # this process's CPU time, median: less skewed by other work


def steward_drift_seconds(
    profile: dict[str, Any], columns: dict[str, Any], repeat: int = 7, warmup: int = 1
) -> DriftTiming:
    """Median seconds of ``drift_report(profile, columns)`` after ``warmup`` untimed runs, with
    the last report. Reusable by a variant that reads ``columns`` from the database."""
    for _ in range(warmup):
        drift_report(profile, columns)
    seconds, cpu_seconds, report = [], [], {}
    for _ in range(repeat):
        gc.collect()
        started, cpu_started = time.perf_counter(), time.process_time()
        report = drift_report(profile, columns)
        seconds.append(time.perf_counter() - started)
        cpu_seconds.append(time.process_time() - cpu_started)
    return DriftTiming(statistics.median(seconds), report, statistics.median(cpu_seconds))


# --- Evidently, in its own venv -----------------------------------------------------------------


class EvidentlyUnavailable(Exception):
    """Evidently could not be installed or run; the message says why."""


def evidently_python() -> Path:
    """The benchmark venv's interpreter, creating the venv and installing Evidently if needed."""
    python = EVIDENTLY_VENV / "bin" / "python"
    if python.exists() and command_ok([str(python), "-c", "import evidently, pandas"]):
        return python
    print(f"installing {' '.join(EVIDENTLY_REQUIREMENTS)} into {EVIDENTLY_VENV} ...", flush=True)
    steps = (
        [sys.executable, "-m", "venv", str(EVIDENTLY_VENV)],
        [str(python), "-m", "pip", "install", "-q", *EVIDENTLY_REQUIREMENTS],
    )
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise EvidentlyUnavailable(f"`{' '.join(step[:4])} ...` failed: {' | '.join(tail)}")
    return python


def command_ok(command: list[str]) -> bool:
    return subprocess.run(command, capture_output=True, timeout=300).returncode == 0


def data_write(reference: dict[str, np.ndarray], current: dict[str, np.ndarray]) -> None:
    """The data as Evidently's side reads it: .npz (categoricals as unicode) and the kinds."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    kinds = kinds_of(reference)
    for name, columns in (("reference", reference), ("current", current)):
        arrays = {
            column: values.astype(str) if kinds[column] == "categorical" else values
            for column, values in columns.items()
        }
        np.savez(DATA_DIR / f"{name}.npz", **arrays)
    by_kind = {
        "numeric": [name for name, kind in kinds.items() if kind == "numeric"],
        "categorical": [name for name, kind in kinds.items() if kind == "categorical"],
    }
    (DATA_DIR / "columns.json").write_text(json.dumps(by_kind))


def evidently_drift(runs: int) -> dict[str, Any]:
    """Seconds (median) and drifted columns of Evidently's DataDriftPreset on DATA_DIR."""
    python = evidently_python()
    helper = Path(__file__).resolve().parent / "evidently_drift.py"
    command = [str(python), str(helper), str(DATA_DIR), "--runs", str(runs)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-3:]
        raise EvidentlyUnavailable(f"evidently_drift.py failed: {' | '.join(tail)}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the end-to-end check on PostgreSQL ---------------------------------------------------------


def end_to_end(args, reference, current, report) -> float | None:
    """Seconds (median) of the drift check reading its window from PostgreSQL, or None when
    DATABASE_URL names no PostgreSQL server (the reason is printed)."""
    from bench.drift_postgres import BENCH_DATABASE, end_to_end_run, postgres_server_url

    server_url, reason = postgres_server_url()
    if server_url is None:
        print(f"end-to-end (PostgreSQL): skipped, {reason}")
        return None
    print(f"end-to-end (PostgreSQL): database {BENCH_DATABASE}, migrated; objects by the services")
    run = end_to_end_run(server_url, reference, current, kinds_of(reference), args)
    print(f"  baseline_create from {args.rows:,} reference rows: {run.baseline_seconds:.2f} s")
    print(f"  {args.rows:,} predictions COPY + VACUUM ANALYZE: {run.load_seconds:.1f} s")
    check, read, compute = run.check, run.read, run.compute
    print(
        f"  drift_outcome (read + statistics): {check.seconds:.3f} s (median of {args.repeat}; "
        f"{cpu_of(check)})"
    )
    print(f"    window_columns (the read): {read.seconds:.3f} s ({cpu_of(read)})")
    print(
        f"      its SQL ({run.statements} statement{'s' if run.statements > 1 else ''}, "
        f"database + transfer): {run.statement_seconds:.3f} s; "
        f"turning the result into arrays: {read.seconds - run.statement_seconds:.3f} s"
    )
    scanned, partitions = run.partitions
    print(f"      partitions scanned: {', '.join(scanned)} (of the log's {partitions})")
    print(f"    drift_report on what it read: {compute.seconds:.3f} s")
    print(f"  window read back exactly (values per column): {'yes' if run.exact else 'NO'}")
    drifted = check.result.details.get("drifted_features", [])
    same = set(drifted) == set(report["drifted_features"])
    print(f"  end-to-end drifted: {', '.join(drifted)} (status {check.result.status})")
    print(f"  same drifted features as in memory: {'yes' if same else 'NO'}")
    return check.seconds


def cpu_of(timed) -> str:
    """CPU seconds of a timed part here and in the database backend (when it could be read):
    on a shared machine steadier than the wall clock, which also counts waiting for a core."""
    if timed.database_cpu_seconds is None:
        return f"CPU here {timed.cpu_seconds:.3f} s, the database's not measured"
    return (
        f"CPU here {timed.cpu_seconds:.3f} s + database {timed.database_cpu_seconds:.3f} s "
        f"= {timed.cpu_seconds + timed.database_cpu_seconds:.3f} s"
    )


# --- Evidently and the verdict ------------------------------------------------------------------


def evidently_seconds(args, reference, current, report) -> float | None:
    """Evidently's median seconds on the same data, or None (the reason is printed)."""
    if args.skip_evidently:
        print("evidently: skipped (--skip-evidently)")
        return None
    try:
        data_write(reference, current)
        evidently = evidently_drift(args.evidently_runs)
    except (EvidentlyUnavailable, subprocess.TimeoutExpired, OSError) as error:
        print(f"evidently: unavailable ({error})")
        return None
    runs = ", ".join(f"{seconds:.2f}" for seconds in evidently["runs"])
    print(f"evidently {evidently['version']} DataDriftPreset: {evidently['seconds']:.2f} s")
    print(f"evidently runs: {runs} s")
    print(f"evidently drifted: {', '.join(evidently['drifted'])}")
    agree = set(report["drifted_features"]) == set(evidently["drifted"])
    print(f"same drifted features: {'yes' if agree else 'no'}")
    return evidently["seconds"]


def verdict(evidently: float | None, in_memory: float, end_to_end_seconds: float | None) -> None:
    """Both speedups, the 2 s target, and last the speedup line (end-to-end when measured)."""
    if end_to_end_seconds is not None:
        under = "yes" if end_to_end_seconds < TARGET_SECONDS else "NO"
        print(
            f"end-to-end under the {TARGET_SECONDS:.0f} s target: {under} "
            f"({end_to_end_seconds:.3f} s)"
        )
    if evidently is None:
        print("speedup vs evidently: n/a")
        return
    print(f"speedup, in memory (evidently / drift_report on arrays): {evidently / in_memory:.1f}")
    if end_to_end_seconds is None:
        print("speedup, end to end: n/a (no PostgreSQL); the last line uses the in-memory figure")
        print(f"speedup vs evidently: {evidently / in_memory:.1f}")
        return
    speedup = evidently / end_to_end_seconds
    print(f"speedup, end to end (evidently / drift_outcome reading PostgreSQL): {speedup:.1f}")
    print("the last line uses the end-to-end figure (the conservative one)")
    print(f"speedup vs evidently: {speedup:.1f}")


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    reference = dataset_generate(args.seed, args.rows, shifted=False)
    current = dataset_generate(args.seed + 1, args.rows, shifted=True)
    kinds = kinds_of(reference)
    numeric = sum(kind == "numeric" for kind in kinds.values())
    print(f"rows: {args.rows:,} reference + {args.rows:,} window")
    print(f"features: {len(kinds)} ({numeric} numeric, {len(kinds) - numeric} categorical)")
    print_load("before")
    print(f"shifted in the window: {', '.join(SHIFTED)} (nudged, not drift: {', '.join(NUDGED)})")
    profile, build_seconds = steward_profile_build(reference)
    print(
        f"steward profile build: {build_seconds:.3f} s (once; {len(json.dumps(profile)):,} B JSON)"
    )
    steward_seconds, report, cpu_seconds = steward_drift_seconds(profile, current, args.repeat)
    print(
        f"steward drift compute: {steward_seconds:.3f} s (median of {args.repeat}; "
        f"CPU {cpu_seconds:.3f} s)"
    )
    print(f"steward drifted: {', '.join(report['drifted_features'])} (status {report['status']})")
    end_to_end_seconds = end_to_end(args, reference, current, report)
    evidently = evidently_seconds(args, reference, current, report)
    print_load("after")
    verdict(evidently, steward_seconds, end_to_end_seconds)


def print_load(when: str) -> None:
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"load average {when}: {load} ({os.cpu_count()} cores; other work skews every figure)")


if __name__ == "__main__":
    main()
