"""Data hashing: files streamed, directories by a stable manifest, CSV counted and typed,
Parquet when pyarrow is there, remote URIs by their declared hash."""

from __future__ import annotations

import hashlib
import os

import pytest
from steward_client.data import (
    Data,
    as_data,
    dataset_name_from,
    directory_manifest,
    manifest_sha256,
    pyarrow_available,
)
from steward_client.errors import LocalInputError


def test_a_file_is_hashed_in_a_stream_with_its_size(tmp_path):
    path = tmp_path / "blob.bin"
    payload = os.urandom(3 * (1 << 20) + 17)  # more than one read block
    path.write_bytes(payload)
    profile = Data(path).profile()
    assert profile["content_hash"] == hashlib.sha256(payload).hexdigest()
    assert profile["size_bytes"] == len(payload)
    assert profile["uri"] == path.resolve().as_uri()
    assert "row_count" not in profile


def test_a_csv_is_counted_by_records_and_typed(tmp_path):
    path = tmp_path / "Loans 2026.csv"
    path.write_text('id,amount,ok,comment\n1,2.5,true,"a\nb"\n2,3,false,\n3,,true,c\n')
    profile = Data(path).profile()
    assert profile["row_count"] == 3
    assert profile["schema"]["columns"] == [
        {"name": "id", "type": "int64"},
        {"name": "amount", "type": "float64"},
        {"name": "ok", "type": "bool"},
        {"name": "comment", "type": "string"},
    ]
    assert Data(path).name == "loans-2026"


def test_a_directory_manifest_is_stable_and_content_sensitive(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    for root, order in ((one, ["b.txt", "sub/a.txt"]), (two, ["sub/a.txt", "b.txt"])):
        for name in order:  # written in another order: the same manifest
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(f"content of {name}\n")
    assert directory_manifest(one) == directory_manifest(two)
    assert Data(one).profile()["content_hash"] == Data(two).profile()["content_hash"]
    assert [e[0] for e in directory_manifest(one)] == ["b.txt", "sub/a.txt"]
    (two / "sub" / "a.txt").write_text("changed\n")
    assert Data(two).profile()["content_hash"] != Data(one).profile()["content_hash"]
    (one / "sub" / "a.txt").rename(one / "sub" / "renamed.txt")
    assert manifest_sha256(directory_manifest(one)) != Data(two).profile()["content_hash"]


def test_a_directory_of_csv_parts_sums_its_rows(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "0.csv").write_text("a,b\n1,2\n")
    (tmp_path / "p" / "1.csv").write_text("a,b\n3,4\n5,6\n")
    profile = Data(tmp_path / "p").profile()
    assert profile["row_count"] == 3 and profile["schema"]["files"] == 2


def test_parts_with_different_columns_are_not_summed(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "0.csv").write_text("a,b\n1,2\n")
    (tmp_path / "p" / "1.csv").write_text("x\n3\n")
    profile = Data(tmp_path / "p").profile()
    assert "row_count" not in profile and profile["schema"] == {"format": "directory", "files": 2}


def test_parquet_is_profiled_only_with_pyarrow(tmp_path):
    path = tmp_path / "t.parquet"
    if not pyarrow_available():
        path.write_bytes(b"PAR1 not really")
        profile = Data(path).profile()
        assert "row_count" not in profile and len(profile["content_hash"]) == 64
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]}), path)
    profile = Data(path).profile()
    assert profile["row_count"] == 3
    assert [c["name"] for c in profile["schema"]["columns"]] == ["a", "b"]


def test_a_remote_uri_needs_its_declared_hash():
    with pytest.raises(LocalInputError, match="give its SHA-256"):
        Data("s3://bucket/loans.parquet").profile()
    digest = "ab" * 32
    profile = Data("s3://bucket/loans.parquet", sha256=digest, row_count=10).profile()
    assert profile == {"uri": "s3://bucket/loans.parquet", "content_hash": digest, "row_count": 10}
    assert Data("s3://bucket/loans.parquet").name == "loans"


def test_a_declared_hash_that_does_not_match_the_file_is_refused(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a\n1\n")
    with pytest.raises(LocalInputError, match="does not match"):
        Data(path, sha256="0" * 64).profile()


def test_missing_paths_and_odd_values_are_said(tmp_path):
    with pytest.raises(LocalInputError, match="No such file"):
        Data(tmp_path / "nope.csv").profile()
    with pytest.raises(LocalInputError, match="Cannot use"):
        as_data(42)
    assert as_data(("loans", tmp_path)).name == "loans"
    assert dataset_name_from("/data/Train_Set.v2.csv.gz") == "train_set.v2"
