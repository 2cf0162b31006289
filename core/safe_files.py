"""Reading and writing files below a storage root without ever leaving it.

Steward builds every stored file's path itself (from a content hash), so no client-given name
reaches the file system. What remains is the store itself: a symbolic link planted inside it (by
a compromised process, a careless restore, a shared volume) would make a plain ``open()`` read or
write outside the root. So every component below the root is opened with ``O_NOFOLLOW`` relative
to its parent's descriptor: a link anywhere below the root is refused, never followed. The root
itself is configuration (an operator may well point it at a mounted volume through a link) and is
resolved once."""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path
from typing import BinaryIO

from core.errors import Conflict, NotFound

logger = logging.getLogger("steward.security")

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO planted in the store must not hang the worker.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class StoredFileMissing(NotFound):
    """The row exists but its file is not in the store."""


class UnsafeStoragePath(Conflict):
    """A path below the store is a link or not a regular file/directory: refused, not followed."""

    default_code = "unsafe_storage_path"


def relative_parts(relative: str) -> list[str]:
    """The components of a path below a root. Anything that could name a place outside the
    root (absolute, ``..``, ``.``, empty components, backslashes, NUL) is refused: the callers
    build these paths themselves, so such a value means a corrupt row, not a client typo."""
    if not relative or "\x00" in relative or "\\" in relative or relative.startswith("/"):
        raise UnsafeStoragePath("A stored path is not a plain relative path.")
    parts = relative.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise UnsafeStoragePath("A stored path is not a plain relative path.")
    return parts


def _refuse(root: Path, relative: str, why: str) -> UnsafeStoragePath:
    logger.warning("Refused %s below %s: %s", relative, root, why)
    return UnsafeStoragePath(
        "The stored file is behind a link or is not a regular file; Steward does not follow "
        "links out of its store. An operator must repair the store."
    )


def _open_dirs(root: Path, parts: list[str], *, create: bool) -> int:
    """A descriptor of ``root/parts...`` reached without following links (made if ``create``)."""
    fd = os.open(Path(root).resolve(), _DIR_FLAGS)
    try:
        for part in parts:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o750, dir_fd=fd)
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_inside(root: Path, relative: str) -> BinaryIO:
    """Open ``root/relative`` for reading; refuses links and anything but a regular file."""
    parts = relative_parts(relative)
    try:
        dir_fd = _open_dirs(root, parts[:-1], create=False)
    except FileNotFoundError:
        raise StoredFileMissing("The file is missing from the store.") from None
    except OSError as exc:  # ELOOP / ENOTDIR: a link or a file where a directory should be
        raise _refuse(root, relative, exc.strerror or "not a directory") from None
    try:
        fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        raise StoredFileMissing("The file is missing from the store.") from None
    except OSError as exc:
        raise _refuse(root, relative, exc.strerror or "a link") from None
    finally:
        os.close(dir_fd)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise _refuse(root, relative, "not a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def is_regular_file_inside(root: Path, relative: str) -> bool:
    """Whether ``root/relative`` is a regular file reached without links."""
    try:
        open_inside(root, relative).close()
    except (StoredFileMissing, UnsafeStoragePath):
        return False
    return True


def directory_inside(root: Path, relative_dir: str) -> Path:
    """Make ``root/relative_dir`` (every component a real directory, never a link) and return
    its path."""
    try:
        os.close(_open_dirs(root, relative_parts(relative_dir), create=True))
    except OSError as exc:
        raise _refuse(root, relative_dir, exc.strerror or "not a directory") from None
    return Path(root).resolve() / relative_dir


def move_inside(source: Path, root: Path, relative: str) -> Path:
    """Rename ``source`` to ``root/relative``, making its directories. The rename goes through
    the directory's descriptor, and replaces a link at the target instead of following it."""
    parts = relative_parts(relative)
    try:
        dir_fd = _open_dirs(root, parts[:-1], create=True)
    except OSError as exc:
        raise _refuse(root, relative, exc.strerror or "not a directory") from None
    try:
        os.replace(source, parts[-1], dst_dir_fd=dir_fd)
    finally:
        os.close(dir_fd)
    return Path(root).resolve() / relative
