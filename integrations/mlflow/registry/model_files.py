"""What a registered MLflow model's own files say about how it was built: its framework (the
``MLmodel`` file's flavors) and environment (Python version and packages, from
``python_env.yaml`` + ``requirements.txt``, else ``conda.yaml``).

These files are written by MLflow in a fixed, simple layout, so they are read line by line
rather than with a YAML parser: nothing a client uploads is ever handed to a general loader
(no alias expansion, no object tags), PyYAML is not a runtime dependency of Steward, and a file
larger than ``MAX_READ`` is not read at all. What cannot be read is left empty, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_READ = 256 * 1024
MAX_PACKAGES = 500
PYFUNC_FLAVOR = "python_function"
_REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*(?:==\s*([^\s;#]+))?")
_PYTHON = re.compile(r"^\d+(\.\d+){0,2}$")


@dataclass
class ModelFacts:
    framework: str = ""
    python_version: str = ""
    packages: dict[str, str] = field(default_factory=dict)


def _lines(text: str | None) -> list[str]:
    return (text or "").splitlines()


def flavors_read(mlmodel: str | None) -> list[str]:
    """The flavor names under ``flavors:`` (the keys one indentation level in)."""
    flavors, inside, indent = [], False, None
    for line in _lines(mlmodel):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        depth = len(line) - len(line.lstrip(" "))
        if depth == 0:
            inside = line.rstrip() == "flavors:"
            continue
        if inside:
            indent = depth if indent is None else indent
            if depth == indent and line.rstrip().endswith(":"):
                flavors.append(line.strip()[:-1])
    return flavors


def framework_of(flavors: list[str]) -> str:
    """The model's own flavor (``sklearn``, ``xgboost``...); ``python_function`` only when it
    has no other."""
    own = [name for name in flavors if name != PYFUNC_FLAVOR]
    return (own[0] if own else (flavors[0] if flavors else ""))[:64]


def requirements_read(text: str | None) -> dict[str, str]:
    """``name==version`` lines as ``{name: version}`` (a name without a pin has ``""``)."""
    packages: dict[str, str] = {}
    for line in _lines(text):
        line = line.strip()
        if not line or line.startswith(("#", "-")):
            continue
        match = _REQUIREMENT.match(line)
        if match and len(packages) < MAX_PACKAGES:
            packages[match.group(1).lower()] = match.group(2) or ""
    return packages


def python_env_read(text: str | None) -> str:
    for line in _lines(text):
        key, _, value = line.partition(":")
        if key.strip() == "python" and _PYTHON.match(value.strip()):
            return value.strip()
    return ""


def conda_read(text: str | None) -> tuple[str, dict[str, str]]:
    """The ``python=X`` dependency and the ``pip:`` list of a conda environment file."""
    python, pip_lines, in_pip, pip_depth = "", [], False, 0
    for line in _lines(text):
        stripped = line.strip()
        depth = len(line) - len(line.lstrip(" "))
        if in_pip and (depth <= pip_depth or not stripped.startswith("- ")):
            in_pip = False
        if stripped.startswith("- python=") or stripped.startswith("- python=="):
            candidate = stripped.split("=", 1)[1].lstrip("=").strip()
            python = candidate if _PYTHON.match(candidate) else python
        elif stripped == "- pip:":
            in_pip, pip_depth = True, depth
        elif in_pip:
            pip_lines.append(stripped[2:])
    return python, requirements_read("\n".join(pip_lines))


def model_facts_read(read: Callable[[str], str | None]) -> ModelFacts:
    """The facts of a model directory; ``read(name)`` answers a file's text there, or None
    when the file is absent or too large."""
    facts = ModelFacts(framework=framework_of(flavors_read(read("MLmodel"))))
    facts.python_version = python_env_read(read("python_env.yaml"))
    facts.packages = requirements_read(read("requirements.txt"))
    if not facts.python_version or not facts.packages:
        python, packages = conda_read(read("conda.yaml"))
        facts.python_version = facts.python_version or python
        facts.packages = facts.packages or packages
    return facts
