"""collectstatic compresses only the static files that changed since its last run."""

from __future__ import annotations

import gzip
import os

from core.static_storage import IncrementalCompressor

CSS = b"body { color: #123456; }\n" * 400


def _counting(calls: list[str]) -> IncrementalCompressor:
    compressor = IncrementalCompressor(quiet=True)
    original = compressor.compress_brotli

    def brotli(data):
        calls.append("br")
        return original(data)

    compressor.compress_brotli = brotli
    return compressor


def test_it_keeps_compressed_copies_of_an_unchanged_file(tmp_path):
    source = tmp_path / "site.css"
    source.write_bytes(CSS)
    calls: list[str] = []
    compressor = _counting(calls)

    first = compressor.compress(str(source))
    second = compressor.compress(str(source))

    assert sorted(first) == sorted(second) == [f"{source}.br", f"{source}.gz"]
    assert calls == ["br"], "the second run must not compress again"


def test_it_compresses_again_a_file_that_changed(tmp_path):
    source = tmp_path / "site.css"
    source.write_bytes(CSS)
    calls: list[str] = []
    compressor = _counting(calls)
    compressor.compress(str(source))

    source.write_bytes(CSS + b"p { margin: 0; }\n" * 100)
    stat = source.stat()
    os.utime(source, (stat.st_atime, stat.st_mtime + 5))
    compressor.compress(str(source))

    assert calls == ["br", "br"]
    assert gzip.decompress((tmp_path / "site.css.gz").read_bytes()) == source.read_bytes()
