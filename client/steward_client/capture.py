"""Provenance captured where the work happens: the code (git repository, commit, branch,
whether the tree is dirty and the hash of the difference, the script or notebook) and the
environment (Python, installed distributions, platform, container image digest)."""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


@dataclass
class CodeInfo:
    """Where the code came from. ``repository`` never carries credentials."""

    repository: str = ""
    commit: str = ""
    branch: str = ""
    dirty: bool = False
    diff_sha256: str = ""
    path: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class EnvironmentInfo:
    python_version: str = ""
    packages: dict[str, str] = field(default_factory=dict)
    platform: str = ""
    image_digest: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def strip_credentials(url: str) -> str:
    """A remote URL without user name, password or token: ``https://tok@host/x`` ->
    ``https://host/x``. scp-like SSH remotes (``git@host:org/repo``) keep their user, which
    is not a secret, and lose nothing else."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _git(repo: Path, *args: str) -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603 - fixed git arguments, no shell
            [git, "-C", str(repo), *args],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", "replace")


def script_path() -> Path | None:
    """The running script, or the notebook when the kernel says which one."""
    for variable in ("STEWARD_SCRIPT_PATH", "JPY_SESSION_NAME", "__vsc_ipynb_file__"):
        value = os.environ.get(variable)
        if value and Path(value).suffix:
            return Path(value).resolve()
    main = sys.modules.get("__main__")
    value = getattr(main, "__vsc_ipynb_file__", None) or getattr(main, "__file__", None)
    if value and not str(value).endswith(("ipykernel_launcher.py", "pytest", "__main__.py")):
        return Path(value).resolve()
    return None


def capture_code(start: str | os.PathLike | None = None) -> CodeInfo:
    """The git state of the repository holding ``start`` (default: the script, else the
    current directory). Outside a repository, or without git, only the path is known."""
    script = script_path()
    where = Path(start) if start else (script.parent if script else Path.cwd())
    if where.is_file():
        where = where.parent
    info = CodeInfo()
    top = _git(where, "rev-parse", "--show-toplevel")
    if top is None:
        info.path = str(script) if script else ""
        return info
    root = Path(top.strip())
    info.commit = (_git(root, "rev-parse", "HEAD") or "").strip()
    branch = (_git(root, "rev-parse", "--abbrev-ref", "HEAD") or "").strip()
    info.branch = "" if branch == "HEAD" else branch  # a detached head has no branch
    remote = (_git(root, "remote", "get-url", "origin") or "").strip()
    if not remote:
        first = (_git(root, "remote") or "").split()
        remote = (_git(root, "remote", "get-url", first[0]) or "").strip() if first else ""
    info.repository = strip_credentials(remote) if remote else root.name
    info.dirty, info.diff_sha256 = _dirty_state(root)
    if script:
        try:
            info.path = script.relative_to(root.resolve()).as_posix()
        except ValueError:
            info.path = str(script)
    return info


def _dirty_state(root: Path) -> tuple[bool, str]:
    """Whether tracked files changed or untracked files exist, and a hash of exactly that
    difference (the binary diff against HEAD plus the untracked files' names and contents), so
    two runs from the same dirty tree carry the same hash."""
    status = _git(root, "status", "--porcelain", "--untracked-files=all")
    if not status:
        return False, ""
    digest = hashlib.sha256()
    digest.update((_git(root, "diff", "HEAD", "--binary") or "").encode())
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z") or ""
    for name in sorted(filter(None, untracked.split("\0"))):
        digest.update(b"\0untracked\0" + name.encode())
        file = root / name
        if file.is_file() and not file.is_symlink():
            digest.update(file_sha256(file).encode())
    return True, digest.hexdigest()


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def capture_environment() -> EnvironmentInfo:
    """Python, every installed distribution with its version, the platform, and the
    container image digest when the environment gives one (``STEWARD_IMAGE_DIGEST``, or
    ``IMAGE_DIGEST`` as CI systems and Dockerfiles commonly pass it)."""
    packages: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata.get("Name")
        if name:
            packages[name.lower()] = dist.version or ""
    digest = ""
    for variable in ("STEWARD_IMAGE_DIGEST", "IMAGE_DIGEST", "CONTAINER_IMAGE_DIGEST"):
        found = _DIGEST.search(os.environ.get(variable, ""))
        if found:
            digest = found.group(0)
            break
    return EnvironmentInfo(
        python_version=platform.python_version(),
        packages=dict(sorted(packages.items())),
        platform=platform.platform(),
        image_digest=digest,
    )


def provenance_fields(code: CodeInfo | None, env: EnvironmentInfo | None) -> tuple[dict, dict]:
    """The request fields Steward has for code and environment, and the rest (branch, dirty
    flag, diff hash, platform) as ``steward.*`` params, since Steward has no field for them."""
    fields: dict = {}
    extra: dict = {}
    if code is not None:
        if code.repository:
            fields["code_repository"] = code.repository[:500]
        if re.fullmatch(r"[0-9a-fA-F]{7,64}", code.commit or ""):
            fields["code_commit"] = code.commit
        if code.path:
            fields["code_path"] = code.path[:500]
        if code.branch:
            extra["steward.git.branch"] = code.branch
        if code.commit:
            extra["steward.git.dirty"] = code.dirty
        if code.diff_sha256:
            extra["steward.git.diff_sha256"] = code.diff_sha256
    if env is not None:
        fields["python_version"] = env.python_version
        fields["packages"] = {k[:200]: v[:200] for k, v in env.packages.items()}
        if env.image_digest:
            fields["image_digest"] = env.image_digest
        extra["steward.platform"] = env.platform
    return fields, extra
