"""The content-addressed store as one object the apps register with (``core.content_store``);
``verify_artifacts`` itself is tested in ``test_backup_restore``."""

from __future__ import annotations

import hashlib

from core.content_store import ContentStore, StoredFile, content_store, stored_file_problem


def test_it_knows_the_kinds_the_apps_registered_in_their_ready():
    assert content_store.kinds == ("artifacts", "documents")


def test_it_lists_every_registered_kind_in_order_and_a_kind_registered_again_once(tmp_path):
    store = ContentStore()
    first = StoredFile("a", tmp_path, "a", "0" * 64, 1)
    second = StoredFile("b", tmp_path, "b", "1" * 64, 2)
    store.register("pictures", lambda: [first])
    store.register("sounds", lambda: [second])
    store.register("pictures", lambda: [first])
    assert store.kinds == ("pictures", "sounds")
    assert list(store.stored_files()) == [("pictures", first), ("sounds", second)]


def test_it_names_what_is_wrong_with_a_stored_file(tmp_path):
    content = b"stored bytes"
    digest = hashlib.sha256(content).hexdigest()
    (tmp_path / "f").write_bytes(content)
    assert stored_file_problem(StoredFile("f", tmp_path, "f", digest, len(content))) == ""
    assert stored_file_problem(StoredFile("f", tmp_path, "f", digest, 3)).startswith(
        "size mismatch: the file has 12 bytes"
    )
    assert "sha256 mismatch" in stored_file_problem(StoredFile("f", tmp_path, "f", "0" * 64, 12))
    assert stored_file_problem(StoredFile("g", tmp_path, "g", digest, 12)).startswith("missing:")
    (tmp_path / "link").symlink_to(tmp_path / "f")
    assert stored_file_problem(StoredFile("l", tmp_path, "link", digest, 12)).startswith("unsafe:")
