"""What a demo job reports about itself: its code and environment, its timing, the scores of a
model, and the files it wrote (data as CSV, models in the artifact store)."""

from __future__ import annotations

import hashlib
import math
import pickle
import platform
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from django.utils import timezone
from sklearn import metrics as sk_metrics

from accounts.models import User
from core.hashing import sha256_file
from registry import services
from registry.demo.tables import Table
from registry.models import Artifact, Dataset, DatasetVersion
from registry.services.artifacts import artifact_root

CODE_REPOSITORY = "https://git.example.org/steward-demo/models"
PACKAGES = ("scikit-learn", "numpy", "scipy", "pandas", "joblib", "threadpoolctl")


def _installed_packages() -> dict[str, str]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def code_and_environment(code_path: str) -> dict[str, Any]:
    """Where a demo job's code lives and what it ran on. The commit is made up but stable per
    file; Python and the packages are the ones really installed here."""
    packages = _installed_packages()
    image = hashlib.sha256(repr(sorted(packages.items())).encode()).hexdigest()
    return {
        "code_repository": CODE_REPOSITORY,
        "code_commit": hashlib.sha256(code_path.encode()).hexdigest()[:40],
        "code_path": code_path,
        "python_version": platform.python_version(),
        "packages": packages,
        "image_digest": f"sha256:{image}",
    }


@contextmanager
def timed() -> Iterator[dict]:
    """Yield a dict that holds ``started_at`` and, once the block ends, ``ended_at``."""
    span = {"started_at": timezone.now()}
    yield span
    span["ended_at"] = timezone.now()


def score(model: Any, table: Table) -> dict[str, float]:
    predicted = model.predict(table.X)
    if not table.classes:
        scores = {
            "rmse": math.sqrt(sk_metrics.mean_squared_error(table.y, predicted)),
            "mae": sk_metrics.mean_absolute_error(table.y, predicted),
            "r2": sk_metrics.r2_score(table.y, predicted),
        }
    else:
        proba = model.predict_proba(table.X)
        binary = len(table.classes) == 2
        average = "binary" if binary else "macro"
        scores = {
            "accuracy": sk_metrics.accuracy_score(table.y, predicted),
            "auc": sk_metrics.roc_auc_score(
                table.y, proba[:, 1] if binary else proba, multi_class="raise" if binary else "ovr"
            ),
            "f1": sk_metrics.f1_score(table.y, predicted, average=average),
            "precision": sk_metrics.precision_score(table.y, predicted, average=average),
            "recall": sk_metrics.recall_score(table.y, predicted, average=average),
        }
    return {name: round(float(value), 4) for name, value in scores.items()}


def evaluation_extras(model: Any, table: Table) -> dict[str, float]:
    """What an evaluation reports beyond the training run's scores."""
    if table.classes:
        extras = {"log_loss": sk_metrics.log_loss(table.y, model.predict_proba(table.X))}
    else:
        extras = {"max_error": sk_metrics.max_error(table.y, model.predict(table.X))}
    return {name: round(float(value), 4) for name, value in extras.items()}


def artifact_from_model(actor: User, model: Any, name: str) -> Artifact:
    # Pickle only to have real bytes to store: Steward never loads an artifact.
    payload = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    with tempfile.NamedTemporaryFile(
        dir=artifact_root() / "tmp", prefix="demo-", suffix=".pkl", delete=False
    ) as handle:
        handle.write(payload)
    temp_path = Path(handle.name)
    sha256, size = sha256_file(temp_path)
    artifact, _ = services.artifact_store(
        actor=actor,
        temp_path=temp_path,
        sha256=sha256,
        size_bytes=size,
        original_name=name,
        content_type="application/octet-stream",
    )
    return artifact


def dataset_version_from(
    actor: User, dataset: Dataset, table: Table, path: Path, **provenance: Any
) -> DatasetVersion:
    """Write ``table`` to ``path`` and record it as the next version of ``dataset``."""
    table.write_csv(path)
    content_hash, size = sha256_file(path)
    return services.dataset_version_create(
        actor=actor,
        dataset=dataset,
        uri=path.resolve().as_uri(),
        content_hash=content_hash,
        size_bytes=size,
        row_count=len(table.y),
        schema=table.schema(),
        profile=table.profile(),
        **provenance,
    )
