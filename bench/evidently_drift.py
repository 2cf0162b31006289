"""Evidently's data drift report on the benchmark's data; run by bench/drift.py inside the
benchmark venv (var/bench-evidently-venv), never with the project's own interpreter.

    var/bench-evidently-venv/bin/python bench/evidently_drift.py DATA_DIR [--runs N]

DATA_DIR holds reference.npz and current.npz (one array per column, categorical columns as
unicode arrays) and columns.json (``{"numeric": [...], "categorical": [...]}``). Only
``Report.run`` is timed, on Datasets built beforehand: loading and wrapping the frames is left
out. The last line printed is one JSON object: Evidently's version, the seconds of each run,
their median, and the columns it found drifted.

Written for the API of evidently >= 0.7 (``evidently.Report``, ``evidently.presets``,
``Dataset``/``DataDefinition``); the 0.4-0.6 API (``evidently.report.Report``,
``evidently.metric_preset``) is gone there.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import evidently
import numpy as np
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset


def frame_load(path: Path, categorical: list[str]) -> pd.DataFrame:
    """A DataFrame of one .npz file; categorical columns as Python strings (object dtype)."""
    with np.load(path) as data:
        return pd.DataFrame(
            {
                name: data[name].astype(object) if name in categorical else data[name]
                for name in data.files
            }
        )


def drifted_columns(snapshot_dict: dict[str, Any]) -> list[str]:
    """Columns whose ValueDrift crossed its threshold: a distance at or above it, a p-value
    below it (Evidently's own rule for the two kinds of method)."""
    drifted = []
    for metric in snapshot_dict["metrics"]:
        config = metric.get("config", {})
        if config.get("type") != "evidently:metric_v2:ValueDrift":
            continue
        value, threshold = metric["value"], config["threshold"]
        is_p_value = "p_value" in config.get("method", "")
        if (value < threshold) if is_p_value else (value >= threshold):
            drifted.append(config["column"])
    return sorted(drifted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    columns = json.loads((args.data_dir / "columns.json").read_text())
    definition = DataDefinition(
        numerical_columns=columns["numeric"], categorical_columns=columns["categorical"]
    )
    reference = frame_load(args.data_dir / "reference.npz", columns["categorical"])
    current = frame_load(args.data_dir / "current.npz", columns["categorical"])
    seconds, snapshot = [], None
    for _ in range(args.runs):
        reference_set = Dataset.from_pandas(reference, data_definition=definition)
        current_set = Dataset.from_pandas(current, data_definition=definition)
        report = Report([DataDriftPreset()])
        started = time.perf_counter()
        snapshot = report.run(current_data=current_set, reference_data=reference_set)
        seconds.append(time.perf_counter() - started)
        print(f"evidently run: {seconds[-1]:.2f} s", file=sys.stderr)
    result = {
        "version": evidently.__version__,
        "runs": seconds,
        "seconds": statistics.median(seconds),
        "drifted": drifted_columns(snapshot.dict()),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
