"""Data as Steward records it: a file or directory hashed (streaming SHA-256; a directory by a
stable manifest of its files' paths, sizes and hashes) with its size and, for CSV and Parquet,
row count and column schema; a remote URI with the hash its owner declares. The same content
is the same hash, so registering it again finds the same dataset version."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from steward_client.capture import file_sha256
from steward_client.errors import LocalInputError

CSV_SUFFIXES = {".csv", ".tsv"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
_SHA256 = re.compile(r"[0-9a-f]{64}")


def pyarrow_available() -> bool:
    """Parquet row counts and schemas need pyarrow (``pip install steward-client[parquet]``);
    without it a Parquet file is hashed and sized only."""
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


def dataset_name_from(source: str) -> str:
    """A dataset name Steward accepts, from a file, directory or URI: ``Train Set.csv`` ->
    ``train-set``."""
    stem = Path(source.rstrip("/").rsplit("/", 1)[-1]).name
    for suffix in (".gz", ".bz2", ".zip", ".zst"):
        stem = stem.removesuffix(suffix)
    stem = Path(stem).stem if Path(stem).suffix else stem
    name = re.sub(r"[^a-z0-9._-]+", "-", stem.lower()).strip("-._")
    return name[:128] or "dataset"


def _inferred_type(values: list[str]) -> str:
    present = [v for v in values if v != ""]
    if not present:
        return "string"
    for name, check in (("int64", int), ("float64", float)):
        try:
            for value in present:
                check(value)
        except ValueError:
            continue
        return name
    if all(v.lower() in {"true", "false"} for v in present):
        return "bool"
    return "string"


def csv_profile(path: Path, sample_rows: int = 10_000) -> tuple[int, dict]:
    """Row count (records, quoted newlines included, header excluded) and the columns with a
    type inferred from the first ``sample_rows`` rows."""
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            return 0, {"format": "csv", "columns": []}
        samples: list[list[str]] = [[] for _ in header]
        rows = 0
        for row in reader:
            if not row:
                continue
            if rows < sample_rows:
                for index, value in enumerate(row[: len(header)]):
                    samples[index].append(value)
            rows += 1
    columns = [
        {"name": name, "type": _inferred_type(values)}
        for name, values in zip(header, samples, strict=True)
    ]
    return rows, {"format": "csv", "columns": columns}


def parquet_profile(path: Path) -> tuple[int | None, dict | None]:
    if not pyarrow_available():
        return None, None
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    columns = [{"name": f.name, "type": str(f.type)} for f in parquet.schema_arrow]
    return parquet.metadata.num_rows, {"format": "parquet", "columns": columns}


def tabular_profile(path: Path) -> tuple[int | None, dict | None]:
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return csv_profile(path)
    if suffix in PARQUET_SUFFIXES:
        return parquet_profile(path)
    return None, None


def directory_manifest(root: Path) -> list[tuple[str, int, str]]:
    """``(relative path, size, sha256)`` of every regular file below ``root``, sorted by path
    (POSIX separators), so the same tree gives the same manifest on any machine. Symbolic
    links are not followed."""
    entries = []
    for file in sorted(root.rglob("*")):
        if file.is_symlink() or not file.is_file():
            continue
        entries.append((file.relative_to(root).as_posix(), file.stat().st_size, file_sha256(file)))
    entries.sort()
    return entries


def manifest_sha256(entries: list[tuple[str, int, str]]) -> str:
    text = io.StringIO()
    for relative, size, digest in entries:
        text.write(f"{digest}  {size}  {relative}\n")
    return hashlib.sha256(text.getvalue().encode("utf-8")).hexdigest()


class DatasetRef(NamedTuple):
    """A dataset version already in Steward, named by its natural key."""

    dataset: str
    version: int


@dataclass
class Data:
    """A dataset to record: a local file or directory (hashed here), or a remote URI with its
    declared ``sha256``. ``name`` defaults to the file or directory name."""

    source: str
    name: str | None = None
    sha256: str | None = None
    description: str = ""
    row_count: int | None = None
    schema: dict | None = None
    size_bytes: int | None = None

    def __post_init__(self):
        self.source = str(self.source)
        self.name = self.name or dataset_name_from(self.source)
        self._profile: dict | None = None

    @property
    def is_remote(self) -> bool:
        return "://" in self.source and not self.source.startswith("file://")

    def profile(self) -> dict:
        """What a dataset version is created with: uri, content_hash, size_bytes, row_count,
        schema (computed once)."""
        if self._profile is None:
            self._profile = self._remote() if self.is_remote else self._local()
        return self._profile

    def _remote(self) -> dict:
        declared = (self.sha256 or "").lower()
        if not _SHA256.fullmatch(declared):
            raise LocalInputError(
                f"{self.source} is remote: give its SHA-256 (Data({self.source!r}, "
                "sha256=...)); the client does not download it."
            )
        profile = {"uri": self.source, "content_hash": declared}
        for key in ("size_bytes", "row_count", "schema"):
            if getattr(self, key) is not None:
                profile[key] = getattr(self, key)
        return profile

    def _local(self) -> dict:
        path = Path(self.source.removeprefix("file://")).expanduser()
        if not path.exists():
            raise LocalInputError(f"No such file or directory: {path}")
        path = path.resolve()
        if path.is_dir():
            entries = directory_manifest(path)
            if not entries:
                raise LocalInputError(f"The directory {path} holds no files to hash.")
            digest = manifest_sha256(entries)
            size = sum(size for _, size, _ in entries)
            rows, schema = self._directory_table(path, entries)
            if schema is not None:
                schema = {**schema, "files": len(entries)}
            else:
                schema = {"format": "directory", "files": len(entries)}
        else:
            digest = file_sha256(path)
            size = path.stat().st_size
            rows, schema = tabular_profile(path)
        if self.sha256 and self.sha256.lower() != digest:
            raise LocalInputError(
                f"{path} does not match the declared SHA-256 {self.sha256} (it is {digest})."
            )
        profile = {"uri": path.as_uri(), "content_hash": digest, "size_bytes": size}
        if self.row_count is not None or rows is not None:
            profile["row_count"] = self.row_count if self.row_count is not None else rows
        if self.schema is not None or schema is not None:
            profile["schema"] = self.schema if self.schema is not None else schema
        return profile

    @staticmethod
    def _directory_table(root: Path, entries) -> tuple[int | None, dict | None]:
        """A directory of CSV or Parquet parts with one set of columns: the total row count
        and that schema."""
        total, first = 0, None
        for relative, _, _ in entries:
            rows, schema = tabular_profile(root / relative)
            if rows is None or schema is None:
                return None, None
            if first is None:
                first = schema
            elif schema["columns"] != first["columns"]:
                return None, None
            total += rows
        return total, first


def as_data(value) -> Data:
    """A path, URI, ``(name, path)`` pair or :class:`Data` as Data."""
    if isinstance(value, Data):
        return value
    if isinstance(value, tuple) and len(value) == 2:
        return Data(str(value[1]), name=value[0])
    if isinstance(value, str | Path):
        return Data(str(value))
    raise LocalInputError(f"Cannot use {value!r} as a dataset: give a path, a URI or Data(...).")
