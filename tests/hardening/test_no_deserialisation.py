"""Nothing Steward runs turns user-supplied bytes into objects.

Two proofs. A static one: an AST scan of every non-test module of the project (the apps,
``config`` and ``bench``; migrations included; ``tests`` folders and the virtualenv excluded)
refuses the calls that unpickle or execute data: pickle / cPickle / dill / cloudpickle / joblib /
marshal / shelve loads, ``yaml.load`` and its unsafe loaders (``yaml.safe_load`` is allowed),
``numpy.load(allow_pickle=True)``, ``torch.load`` and ``pandas.read_pickle``. ``pickle.dumps``
is allowed: the demo writes pickled models, it never reads one. A dynamic one: a real malicious
pickle (its ``__reduce__`` creates a marker file) goes through every path that touches stored
bytes (upload as a model artifact, download, model card, baseline from training data, CSV body);
the marker never appears, no pickle global is ever resolved, and the stored bytes hash to what
was uploaded."""

from __future__ import annotations

import ast
import hashlib
import pickle
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from governance.models import GeneratedDocument
from monitoring.models import BaselineProfile
from registry.models import Artifact
from tests.factories import DatasetFactory, RegisteredModelFactory

PROJECT = Path(__file__).resolve().parents[2]
SCANNED = ("core", "accounts", "registry", "governance", "monitoring", "config", "bench")

UNPICKLERS = ("pickle", "_pickle", "cPickle", "dill", "cloudpickle", "joblib", "jsonpickle")
BANNED = {
    *(f"{m}.{f}" for m in UNPICKLERS for f in ("load", "loads", "Unpickler", "decode")),
    "marshal.load",
    "marshal.loads",
    "shelve.open",
    "shelve.Shelf",
    "shelve.DbfilenameShelf",
    "yaml.load",
    "yaml.load_all",
    "yaml.full_load",
    "yaml.full_load_all",
    "yaml.unsafe_load",
    "yaml.unsafe_load_all",
    "yaml.Loader",
    "yaml.FullLoader",
    "yaml.UnsafeLoader",
    "yaml.CLoader",
    "yaml.CFullLoader",
    "yaml.CUnsafeLoader",
    "torch.load",
    "pandas.read_pickle",
    "numpy.lib.format.read_array",
}


class DeserialisationFinder(ast.NodeVisitor):
    """Dotted names (after resolving import aliases) that reach a banned loader, and any call
    passing ``allow_pickle=True`` (``numpy.load`` and friends)."""

    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}
        self.found: list[tuple[int, str]] = []

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                self.aliases[top] = top

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            full = f"{node.module}.{alias.name}"
            self.aliases[alias.asname or alias.name] = full
            self._judge(node.lineno, full)

    def _dotted(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self._dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def _judge(self, line: int, dotted: str) -> None:
        if dotted in BANNED or dotted.endswith(".read_pickle"):
            self.found.append((line, dotted))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        dotted = self._dotted(node)
        if dotted:
            self._judge(node.lineno, dotted)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in self.aliases and self.aliases[node.id] != node.id:
            self._judge(node.lineno, self.aliases[node.id])

    def visit_Call(self, node: ast.Call) -> None:
        for keyword in node.keywords:
            constant = isinstance(keyword.value, ast.Constant)
            if keyword.arg == "allow_pickle" and not (constant and keyword.value.value is False):
                self.found.append((node.lineno, f"{self._dotted(node.func)}(allow_pickle=...)"))
        self.generic_visit(node)


def deserialisation_calls(source: str) -> list[tuple[int, str]]:
    finder = DeserialisationFinder()
    finder.visit(ast.parse(source))
    return sorted(set(finder.found))


def project_modules() -> list[Path]:
    modules = []
    for folder in SCANNED:
        for path in sorted((PROJECT / folder).rglob("*.py")):
            relative = path.relative_to(PROJECT).parts
            if "tests" in relative or path.name.startswith("test_"):
                continue
            modules.append(path)
    return [*modules, PROJECT / "manage.py"]


@pytest.mark.parametrize(
    "snippet",
    [
        "import pickle\npickle.loads(b'')",
        "import pickle as p\np.load(f)",
        "from pickle import loads\nloads(b'')",
        "from _pickle import Unpickler",
        "import cPickle\ncPickle.loads(x)",
        "import dill\ndill.loads(x)",
        "import joblib\njoblib.load(path)",
        "from joblib import load as jl\njl(path)",
        "import marshal\nmarshal.loads(code)",
        "import shelve\nshelve.open(path)",
        "import yaml\nyaml.load(text)",
        "import yaml\nyaml.load(text, Loader=yaml.Loader)",
        "import yaml\nyaml.unsafe_load(text)",
        "from yaml import FullLoader",
        "import numpy as np\nnp.load(path, allow_pickle=True)",
        "import numpy\nnumpy.load(path, allow_pickle=flag)",
        "import torch\ntorch.load(path)",
        "import pandas as pd\npd.read_pickle(path)",
        "frame.read_pickle(path)",
    ],
)
def test_the_scanner_finds_each_banned_form(snippet):
    assert deserialisation_calls(snippet), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        "import pickle\npickle.dumps(model)",
        "import yaml\nyaml.safe_load(text)",
        "import numpy as np\nnp.load(path)",
        "import numpy as np\nnp.load(path, allow_pickle=False)",
        "import json\njson.loads(text)",
        "import orjson\norjson.loads(raw)",
    ],
)
def test_the_scanner_allows_safe_forms(snippet):
    assert deserialisation_calls(snippet) == []


def test_no_project_module_deserialises_bytes():
    modules = project_modules()
    assert len(modules) > 100  # the scan really covers the project
    found = {
        str(path.relative_to(PROJECT)): calls
        for path in modules
        if (calls := deserialisation_calls(path.read_text()))
    }
    assert found == {}


# --- behaviour: a malicious pickle through every path that touches stored bytes --------------


class Boom:
    """Unpickling this touches ``marker``: the classic ``__reduce__`` payload, made harmless."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


_resolved_globals: list[tuple[str, tuple]] = []


def _audit(event: str, args: tuple) -> None:
    # Every unpickler resolves the payload's globals through find_class (raising this event);
    # marshal.loads also runs for every imported .pyc, so only the test's payload counts there.
    if event == "pickle.find_class" or (event == "marshal.loads" and b"pwned" in args[0]):
        _resolved_globals.append((event, tuple(str(a) for a in args)))


sys.addaudithook(_audit)


@pytest.fixture
def malicious(tmp_path) -> tuple[bytes, Path]:
    marker = tmp_path / "pwned"
    payload = pickle.dumps(Boom(marker))
    # The payload is real: loading it here (the control) does create a marker.
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(Boom(control)))  # noqa: S301 - the control that proves the payload
    assert control.exists()
    _resolved_globals.clear()
    return payload, marker


@pytest.mark.django_db
def test_a_malicious_pickle_is_stored_hashed_and_never_loaded(
    contributor, team, malicious, django_capture_on_commit_callbacks
):
    payload, marker = malicious
    digest = hashlib.sha256(payload).hexdigest()
    api = APIClient()
    api.force_authenticate(contributor)

    uploaded = api.post("/api/v1/artifacts/", {"file": _file("model.pkl", payload)})
    assert uploaded.status_code == 201, uploaded.content
    assert uploaded.json()["sha256"] == digest
    artifact = Artifact.objects.get(sha256=digest)
    stored = Path(artifact_file(artifact)).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == digest and stored == payload

    download = api.get(f"/api/v1/artifacts/{digest}/download/")
    assert b"".join(download.streaming_content) == payload

    RegisteredModelFactory(name="pickled", owner_team=team)
    DatasetFactory(name="pickled-data", owner_team=team)
    dataset_version = api.post(
        "/api/v1/datasets/pickled-data/versions/",
        {"uri": "s3://d/train.pkl", "content_hash": digest},
        format="json",
    )
    assert dataset_version.status_code == 201, dataset_version.content
    version = api.post(
        "/api/v1/models/pickled/versions/",
        {
            "artifact": digest,
            "framework": "sklearn",
            "input_schema": {"columns": [{"name": "x", "type": "float"}]},
            "datasets": [{"dataset": "pickled-data", "version": 1, "role": "train"}],
        },
        format="json",
    )
    assert version.status_code == 201, version.content

    with django_capture_on_commit_callbacks(execute=True):
        card = api.post(
            "/api/v1/models/pickled/versions/1/documents/",
            {"template": "model-card"},
            format="json",
        )
    assert card.status_code == 202, card.content
    assert GeneratedDocument.objects.get(pk=card.json()["id"]).status == "done"

    baselines = "/api/v1/models/pickled/versions/1/baselines/"
    from_training = api.post(baselines, {"from_training_data": True}, format="json")
    assert from_training.status_code == 400, from_training.content
    as_csv = api.generic("POST", baselines, payload, content_type="text/csv")
    assert as_csv.status_code == 400, as_csv.content
    assert not BaselineProfile.objects.exists()

    assert not marker.exists()
    assert _resolved_globals == []
    assert Path(artifact_file(artifact)).read_bytes() == payload


def _file(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def artifact_file(artifact: Artifact) -> Path:
    from registry.services.artifacts import artifact_path

    return artifact_path(artifact)
