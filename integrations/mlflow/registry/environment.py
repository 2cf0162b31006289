"""The provenance of a version registered through MLflow, from its ``source`` and ``run_id``.

A source whose files Steward holds (logged through the tracking routes) is resolved by the
tracking part (``integrations.mlflow.sources.mlflow_source_resolve``): its run (the MLflow run
is the Steward run, same id), the hash of its file manifest and its size, and the model files
that say its framework and environment (``model_files``). The run gives the code (repository,
commit, path) and, through the registry, the datasets. A source elsewhere (``s3://``,
``file://``: only ``MLFLOW_REGISTRY_URI`` points at Steward) is registered by reference; a
``run_id`` is linked when it names a Steward run the user may see.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from accounts.models import User
from integrations.mlflow.registry.model_files import MAX_READ, ModelFacts, model_facts_read
from integrations.mlflow.sources import SourceNotHeld, mlflow_source_resolve
from integrations.models import MlflowLoggedModel
from registry.models import Run
from registry.services.artifacts import artifact_open


@dataclass
class SourceProvenance:
    sha256: str = ""
    size_bytes: int | None = None
    run: Run | None = None
    logged_model: MlflowLoggedModel | None = None
    storage_root: str = ""
    external: bool = True
    facts: ModelFacts = field(default_factory=ModelFacts)
    code_repository: str = ""
    code_commit: str = ""
    code_path: str = ""


def _visible_run(actor: User, run_id: str) -> Run | None:
    try:
        key = uuid.UUID(run_id)
    except (TypeError, ValueError):
        return None
    return Run.objects.restrict(actor).filter(uuid=key).first()


def _file_reader(storage_root: str, files) -> Callable[[str], str | None]:
    """``read(name)``: the text of a file directly in the model directory, or None."""
    by_name = {}
    for file in files:
        full = f"{file.root}/{file.path}"
        if full.startswith(storage_root.rstrip("/") + "/"):
            by_name[full[len(storage_root.rstrip("/")) + 1 :]] = file

    def read(name: str) -> str | None:
        file = by_name.get(name)
        if file is None or (file.artifact.size_bytes or 0) > MAX_READ:
            return None
        with artifact_open(file.artifact) as handle:
            return handle.read(MAX_READ).decode("utf-8", errors="replace")

    return read


def version_provenance_of_source(*, actor: User, source: str, run_id: str = "") -> SourceProvenance:
    """What the source and run say about a version about to be registered."""
    provenance = SourceProvenance()
    try:
        resolved = mlflow_source_resolve(actor=actor, source=source, run_id=run_id)
    except SourceNotHeld:
        provenance.run = _visible_run(actor, run_id) if run_id else None
    else:
        provenance.external = False
        provenance.sha256 = resolved.manifest_sha256
        provenance.size_bytes = resolved.size_bytes
        provenance.storage_root = resolved.storage_root
        provenance.logged_model = resolved.logged_model
        provenance.run = resolved.run
        provenance.facts = model_facts_read(_file_reader(resolved.storage_root, resolved.files))
    run = provenance.run
    if run is not None:
        provenance.code_repository = run.code_repository
        provenance.code_commit = run.code_commit
        provenance.code_path = run.code_path
        provenance.facts.python_version = provenance.facts.python_version or run.python_version
        provenance.facts.packages = provenance.facts.packages or dict(run.packages or {})
    return provenance
