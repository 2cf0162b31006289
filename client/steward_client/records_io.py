"""Reading prediction and ground-truth records from files: JSON Lines (one object a line), a
JSON list, or CSV whose columns ``inputs.<name>``, ``outputs.<name>`` and ``protected.<name>``
become those objects (other columns - request_id, predicted_at, latency_ms, ground_truth,
observed_at - are top-level fields). Values in CSV cells that read as JSON (numbers, true,
false, null, lists) are taken as such."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

from steward_client.errors import LocalInputError

NESTED = ("inputs", "outputs", "protected")


def _cell(value: str):
    if value == "":
        return None
    try:
        return json.loads(value)
    except ValueError:
        return value


def _csv_records(path: Path) -> Iterator[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            record: dict = {}
            for column, value in row.items():
                if column is None:
                    raise LocalInputError(f"{path}: a row has more cells than the header.")
                prefix, _, name = column.partition(".")
                if prefix in NESTED and name:
                    record.setdefault(prefix, {})[name] = _cell(value)
                elif column in ("request_id", "predicted_at", "observed_at"):
                    record[column] = value
                else:
                    record[column] = _cell(value)
            yield record


def _jsonl_records(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except ValueError as exc:
                raise LocalInputError(f"{path}, line {number}: not JSON ({exc}).") from None


def read_records(path: str | Path) -> Iterator[dict]:
    path = Path(path)
    if not path.is_file():
        raise LocalInputError(f"No such file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_records(path)
    if suffix in (".jsonl", ".ndjson"):
        return _jsonl_records(path)
    if suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise LocalInputError(f"{path}: not JSON ({exc}).") from None
        if isinstance(data, dict):
            data = data.get("records")
        if not isinstance(data, list):
            raise LocalInputError(f'{path}: expected a list of records or {{"records": [...]}}.')
        return iter(data)
    raise LocalInputError(f"{path}: use a .jsonl, .json or .csv file.")
