"""A generated corpus of path-traversal names, and the file-system fixtures to judge them.

The corpus is built systematically rather than listed by hand: every way of spelling "go up one
folder" (dot-dot styles x separators, raw, URL-encoded, double-encoded, overlong UTF-8 and
Unicode look-alikes) at several depths towards several targets, then the families that are not
"dot-dot plus separator": absolute paths, ``file://`` URIs, ``#`` and ``?`` tricks, NUL
truncation, trailing dots and Windows device names. One target is a sentinel file the tests
plant outside the storage roots, so "nothing was read or written outside" can be checked
on the file system itself.

``StorageWatch`` records every file the process opens, renames, creates or removes (through
Python's audit hooks, so nothing in the application is patched) and snapshots the tmp tree
outside the roots."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

SENTINEL_TEXT = "steward-sentinel: this file lives outside every storage root\n"

# (name, "..", separator): how one "go up" step is spelled.
STEP_STYLES: list[tuple[str, str, str]] = [
    ("raw-slash", "..", "/"),
    ("raw-backslash", "..", "\\"),
    ("raw-double-slash", "..", "//"),
    ("raw-mixed", "..", "\\/"),
    ("dots-4-slash", "....", "//"),  # "....//" becomes "../" after one naive strip of "../"
    ("dotdot-semicolon", "..;", "/"),
    ("url-dots", "%2e%2e", "/"),
    ("url-slash", "..", "%2f"),
    ("url-both", "%2e%2e", "%2f"),
    ("url-backslash", "%2e%2e", "%5c"),
    ("url-upper", "%2E%2E", "%2F"),
    ("double-dots", "%252e%252e", "/"),
    ("double-slash-enc", "..", "%252f"),
    ("double-both", "%252e%252e", "%252f"),
    ("double-backslash", "%252e%252e", "%255c"),
    ("overlong-dots", "%c0%ae%c0%ae", "/"),
    ("overlong-slash", "..", "%c0%af"),
    ("overlong-backslash", "..", "%c1%9c"),
    ("fullwidth", "\uff0e\uff0e", "\uff0f"),  # ．．／
    ("division-slash", "..", "\u2215"),  # ∕
    ("fraction-slash", "..", "\u2044"),  # ⁄
    ("fullwidth-backslash", "..", "\uff3c"),  # ＼
    ("two-dot-leader", "\u2025", "/"),  # ‥
]
DEPTHS = (1, 2, 4, 8)
# Targets: the sentinel's path relative to the tmp dir, a Unix and a Windows secret.
TARGETS = ("outside/sentinel.txt", "etc/passwd", "windows/win.ini")
# Names a read of a target would open: an opened path containing one of these is a leak.
TARGET_MARKERS = ("sentinel", "passwd", "win.ini", "outside")


@dataclass(frozen=True)
class Variant:
    family: str
    value: str


def _join(sep: str, target: str) -> str:
    return target.replace("/", sep) if sep not in ("/", "//") else target


def _stepped_variants() -> Iterator[Variant]:
    for style, up, sep in STEP_STYLES:
        for depth in DEPTHS:
            for target in TARGETS:
                yield Variant(f"{style}/depth{depth}", (up + sep) * depth + _join(sep, target))


def _other_families(sentinel: Path) -> Iterator[Variant]:
    absolute = str(sentinel)
    families: dict[str, list[str]] = {
        "absolute": [
            absolute,
            "/etc/passwd",
            "//etc/passwd",
            "/proc/self/environ",
            "C:\\Windows\\win.ini",
            "C:/Windows/win.ini",
            "\\\\server\\share\\sentinel.txt",
            "\\\\?\\C:\\Windows\\win.ini",
            "~/.ssh/id_rsa",
            absolute.replace("/", "\\"),
        ],
        "file-uri": [
            f"file://{absolute}",
            "file:///etc/passwd",
            "file://localhost/etc/passwd",
            "file:/etc/passwd",
            "FILE:///etc/passwd",
            "file:///C:/Windows/win.ini",
            "file://%2fetc%2fpasswd",
            "file:%2f%2f%2fetc%2fpasswd",
            f"file://{absolute}%00.pkl",
            "file://../../outside/sentinel.txt",
        ],
        "fragment-query": [
            "model.pkl#/../../../outside/sentinel.txt",
            "model.pkl?/../../../outside/sentinel.txt",
            "../../outside/sentinel.txt#.pkl",
            "../../outside/sentinel.txt?.pkl",
            "..%23/../outside/sentinel.txt",
            "..%3f/../outside/sentinel.txt",
            "#../../etc/passwd",
            "?../../etc/passwd",
            "s3://bucket/model.pkl#../../../etc/passwd",
            "https://example.org/m.pkl?path=../../etc/passwd",
        ],
        "nul-and-trailing": [
            "../../etc/passwd\x00.pkl",
            "model.pkl\x00../../etc/passwd",
            "../../etc/passwd%00.pkl",
            "../../etc/passwd.",
            "../../etc/passwd ",
            "../../etc/passwd::$DATA",
            "CON",
            "NUL.txt",
            "aux.pkl",
            "..",
            ".",
            "/",
            "\\",
        ],
        "prefix-then-up": [
            "models/../../../outside/sentinel.txt",
            "sha256/../../outside/sentinel.txt",
            "tmp/../../outside/sentinel.txt",
            "./../../outside/sentinel.txt",
            "a/b/c/../../../../../outside/sentinel.txt",
            "sha256/ab/cd/../../../../../outside/sentinel.txt",
        ],
    }
    for family, values in families.items():
        for value in values:
            yield Variant(family, value)


def traversal_variants(sentinel: Path) -> list[Variant]:
    """Every variant once (distinct values), in a stable order."""
    seen: dict[str, Variant] = {}
    for variant in [*_stepped_variants(), *_other_families(sentinel)]:
        seen.setdefault(variant.value, variant)
    return list(seen.values())


# --- the file system around the roots -------------------------------------------------------


@dataclass
class Layout:
    """``tmp/store/artifacts`` and ``tmp/store/documents`` are the roots; ``tmp/outside`` holds
    the sentinel. ``../..`` from a root reaches ``tmp``."""

    tmp: Path
    artifact_root: Path
    documents_root: Path
    outside: Path
    sentinel: Path

    @classmethod
    def make(cls, tmp: Path) -> Layout:
        store = tmp / "store"
        outside = tmp / "outside"
        outside.mkdir(parents=True)
        sentinel = outside / "sentinel.txt"
        sentinel.write_text(SENTINEL_TEXT)
        # The roots exist, as in a deployment: making them is not an access outside.
        (store / "artifacts").mkdir(parents=True)
        (store / "documents").mkdir(parents=True)
        return cls(tmp, store / "artifacts", store / "documents", outside, sentinel)

    @property
    def roots(self) -> tuple[Path, Path]:
        return (self.artifact_root.resolve(), self.documents_root.resolve())

    def outside_snapshot(self) -> dict[str, tuple[int, str]]:
        """Every file under ``tmp`` but outside the roots: size and SHA-256 (links by target)."""
        result = {}
        for dirpath, dirnames, filenames in os.walk(self.tmp):
            here = Path(dirpath)
            if any(here == root or root in here.parents for root in self.roots):
                dirnames[:] = []
                continue
            for name in filenames + [d for d in dirnames if (here / d).is_symlink()]:
                path = here / name
                if path.is_symlink():
                    result[str(path)] = (-1, os.readlink(path))
                else:
                    result[str(path)] = (
                        path.stat().st_size,
                        hashlib.sha256(path.read_bytes()).hexdigest(),
                    )
        return result

    def files_in(self, root: Path) -> set[str]:
        if not root.exists():
            return set()
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


# --- what the process touched ---------------------------------------------------------------

_WATCHED_EVENTS = frozenset(
    {"open", "os.rename", "os.remove", "os.mkdir", "os.rmdir", "os.symlink", "os.link"}
)
_active: list[StorageWatch] = []


def _hook(event: str, args: tuple) -> None:
    if not _active or event not in _WATCHED_EVENTS:
        return
    watch = _active[-1]
    if event == "open":
        path, mode, flags = (tuple(args) + (None, None))[:3]
        writes = bool(
            (isinstance(mode, str) and any(c in mode for c in "wax+"))
            or (isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        )
        watch.record("write" if writes else "read", path)
    else:
        for path in args[:2]:
            watch.record(event, path)


sys.addaudithook(_hook)


@dataclass
class StorageWatch:
    """Opens and file-system changes made while active, and what they reveal."""

    layout: Layout
    touched: list[tuple[str, str]] = field(default_factory=list)

    def record(self, kind: str, path: object) -> None:
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if isinstance(path, (str, os.PathLike)):
            self.touched.append((kind, os.fspath(path)))

    @contextmanager
    def active(self) -> Iterator[StorageWatch]:
        _active.append(self)
        try:
            yield self
        finally:
            _active.remove(self)

    def escapes(self) -> list[tuple[str, str]]:
        """Touched paths that reach outside the roots: a ``..`` component, a target's name,
        or an absolute path under the tmp dir but outside both roots. Relative single names
        are the store's own descriptor-relative opens (``core.safe_files``)."""
        bad = []
        tmp = self.layout.tmp.resolve()
        for kind, path in self.touched:
            parts = Path(path.replace("\\", "/")).parts
            if ".." in parts or any(marker in path for marker in TARGET_MARKERS):
                bad.append((kind, path))
                continue
            if not os.path.isabs(path):
                continue
            absolute = Path(os.path.abspath(path))
            inside_tmp = absolute == tmp or tmp in absolute.parents
            inside_root = any(
                absolute == root or root in absolute.parents for root in self.layout.roots
            )
            if inside_tmp and not inside_root:
                bad.append((kind, path))
        return bad


# --- links planted inside the store ---------------------------------------------------------


@dataclass(frozen=True)
class SymlinkCase:
    """A link planted inside a storage root, pointing outside it. ``plant(root, layout,
    sha256)`` creates it where the file with digest ``sha256`` would be read or written."""

    name: str
    plant: Callable[[Path, Layout, str], None]


def _link(link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.exists() or link.is_symlink():
        if link.is_dir() and not link.is_symlink():
            for child in sorted(link.rglob("*"), reverse=True):
                child.unlink() if not child.is_dir() else child.rmdir()
            link.rmdir()
        else:
            link.unlink()
    link.symlink_to(target)


def artifact_symlink_cases() -> list[SymlinkCase]:
    """Links at each level of ``sha256/<ab>/<cd>/<digest>`` and at ``tmp``."""

    def file_link(root: Path, layout: Layout, sha: str) -> None:
        _link(root / f"sha256/{sha[:2]}/{sha[2:4]}/{sha}", layout.sentinel)

    def leaf_dir_link(root: Path, layout: Layout, sha: str) -> None:
        (layout.outside / sha).write_text(SENTINEL_TEXT)
        _link(root / f"sha256/{sha[:2]}/{sha[2:4]}", layout.outside)

    def shard_dir_link(root: Path, layout: Layout, sha: str) -> None:
        (layout.outside / sha[2:4]).mkdir(exist_ok=True)
        (layout.outside / sha[2:4] / sha).write_text(SENTINEL_TEXT)
        _link(root / f"sha256/{sha[:2]}", layout.outside)

    def top_dir_link(root: Path, layout: Layout, sha: str) -> None:
        nested = layout.outside / sha[:2] / sha[2:4]
        nested.mkdir(parents=True, exist_ok=True)
        (nested / sha).write_text(SENTINEL_TEXT)
        _link(root / "sha256", layout.outside)

    def relative_file_link(root: Path, layout: Layout, sha: str) -> None:
        _link(
            root / f"sha256/{sha[:2]}/{sha[2:4]}/{sha}",
            Path("../../../../../outside/sentinel.txt"),
        )

    return [
        SymlinkCase("file-is-link", file_link),
        SymlinkCase("leaf-dir-is-link", leaf_dir_link),
        SymlinkCase("shard-dir-is-link", shard_dir_link),
        SymlinkCase("sha256-dir-is-link", top_dir_link),
        SymlinkCase("relative-file-link", relative_file_link),
    ]


def document_symlink_cases() -> list[SymlinkCase]:
    """Links at ``<ab>/<digest>.pdf`` and at ``<ab>`` under DOCUMENTS_ROOT."""

    def file_link(root: Path, layout: Layout, sha: str) -> None:
        _link(root / f"{sha[:2]}/{sha}.pdf", layout.sentinel)

    def dir_link(root: Path, layout: Layout, sha: str) -> None:
        (layout.outside / f"{sha}.pdf").write_text(SENTINEL_TEXT)
        _link(root / sha[:2], layout.outside)

    return [SymlinkCase("pdf-is-link", file_link), SymlinkCase("pdf-dir-is-link", dir_link)]
