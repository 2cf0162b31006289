"""Baseline profiles: what a version's inputs and outputs looked like in its reference data.

Profiled once, here, and stored; every drift check reads the stored profile and never the raw
reference rows again. The reference is either the version's training data — read from the
artifact store by its content hash, so Steward reads only bytes it holds and never follows a
registered URI — or reference rows uploaded for the purpose."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction

from accounts.choices import TokenScope, Verb
from accounts.models import User
from core.errors import Forbidden, InvalidInput
from core.eventlog import audit_event_append
from governance import workflow
from governance.guards import guard_context, guards_evaluate
from monitoring import stats
from monitoring.choices import BaselineSource
from monitoring.models import BaselineProfile
from monitoring.permissions import require_any
from monitoring.schema import Column, schema_columns
from registry.choices import DatasetRole, VersionStatus
from registry.models import DatasetVersion, ModelVersion
from registry.selectors import artifact_readable
from registry.services.artifacts import artifact_open

MAX_REFERENCE_ROWS = 2_000_000


# While a version is still its builders' (not yet submitted, or sent back) they set its
# baseline; from submission on it is evidence a validator reviews, so it is set by an
# independent validator or deployer.
BUILDERS_STATES = frozenset({VersionStatus.DRAFT, VersionStatus.CHANGES_REQUESTED})
BUILDERS_VERBS = (Verb.CHANGE, Verb.DEPLOY)
REVIEWERS_VERBS = (Verb.VALIDATE, Verb.DEPLOY)
# What an API token needs to take those verbs: write while the version is its builders', the
# validate or deploy scope from submission on.
BUILDERS_SCOPES = (TokenScope.WRITE,)
REVIEWERS_SCOPES = (TokenScope.VALIDATE, TokenScope.DEPLOY)


def baseline_token_scopes(version: ModelVersion) -> tuple[str, ...]:
    """The token scopes of which one sets ``version``'s baseline now (any of them will do)."""
    return BUILDERS_SCOPES if version.status in BUILDERS_STATES else REVIEWERS_SCOPES


def _require_writer(actor: User, version: ModelVersion) -> None:
    """Refuse unless ``actor`` may set ``version``'s baseline now (see ``BUILDERS_STATES``):
    after submission it needs the validate or deploy verb and independence from the version's
    registrant and submitter (governance's separation-of-duties guard)."""
    if version.status in BUILDERS_STATES:
        require_any(actor, BUILDERS_VERBS, version)
        return
    require_any(actor, REVIEWERS_VERBS, version)

    ctx = guard_context(version, actor)
    failed = [g for g in guards_evaluate([workflow.SEPARATION_OF_DUTIES], ctx) if not g.passed]
    if failed:
        raise Forbidden(
            f"{version} is {version.get_status_display().lower()}: its baseline is evidence "
            f"for the review and is set by someone independent. {failed[0].reason}"
        )


def _profiled_columns(schema: dict) -> list[Column]:
    return [c for c in schema_columns(schema) or [] if c.width is None]


def _kind(column: Column) -> str:
    return "numeric" if column.is_numeric else "categorical"


def _columns_of(rows: list[Mapping[str, Any]], columns: list[Column]) -> dict[str, list]:
    return {c.name: [_cell(row.get(c.name), c) for row in rows] for c in columns}


def _cell(value: Any, column: Column) -> Any:
    """A reference cell as the profile wants it: numbers for numeric columns (CSV gives text),
    None for missing."""
    if value is None or value == "":
        return None
    if column.is_numeric:
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    if column.labels and isinstance(value, str) and value.lstrip("-").isdigit():
        index = int(value)  # CSV holds class indices; the schema names them
        return column.labels[index] if 0 <= index < len(column.labels) else value
    if column.labels and isinstance(value, int) and 0 <= value < len(column.labels):
        return column.labels[value]
    return str(value)


@transaction.atomic
def baseline_create(
    *,
    actor: User,
    version: ModelVersion,
    rows: Iterable[Mapping[str, Any]],
    source: str = BaselineSource.UPLOADED,
    source_label: str = "",
    content_sha256: str = "",
    dataset_version: DatasetVersion | None = None,
) -> BaselineProfile:
    """Profile ``rows`` (flat records: the input columns and the output columns of the
    version's schemas by name) and store the profile as the version's current baseline. Who
    may set it depends on the version's state (``_require_writer``); the version row is locked
    so that its state cannot change in between."""
    version = (
        ModelVersion.objects.select_for_update()
        .select_related("registered_model")
        .get(pk=version.pk)
    )
    _require_writer(actor, version)
    replaced = version.baselines.order_by("-created_at", "-id").first()
    inputs, outputs = (
        _profiled_columns(version.input_schema),
        _profiled_columns(version.output_schema),
    )
    if not inputs:
        raise InvalidInput(
            f"{version} declares no input columns; a baseline profiles the columns of its "
            "input schema."
        )
    rows = list(rows)
    if not rows:
        raise InvalidInput("The reference data holds no rows.", field_errors={"rows": ["Empty."]})
    if len(rows) > MAX_REFERENCE_ROWS:
        raise InvalidInput(f"At most {MAX_REFERENCE_ROWS} reference rows.")
    if not all(isinstance(r, Mapping) for r in rows):
        raise InvalidInput("Each reference row must be a JSON object.")
    missing = [c.name for c in inputs if all(c.name not in r for r in rows[:100])]
    if missing:
        raise InvalidInput(
            f"The reference data lacks input columns: {', '.join(missing[:10])}.",
            field_errors={"rows": [f"Missing columns: {', '.join(missing[:10])}"]},
        )
    present_outputs = [c for c in outputs if any(c.name in r for r in rows[:100])]
    profile_in = stats.baseline_profile_build(
        _columns_of(rows, inputs), {c.name: _kind(c) for c in inputs}
    )
    profile_out = (
        stats.baseline_profile_build(
            _columns_of(rows, present_outputs), {c.name: _kind(c) for c in present_outputs}
        )
        if present_outputs
        else {}
    )
    if not content_sha256:
        canonical = json.dumps(rows, sort_keys=True, default=str).encode()
        content_sha256 = hashlib.sha256(canonical).hexdigest()
    baseline = BaselineProfile.objects.create(
        model_version=version,
        source=source,
        dataset_version=dataset_version,
        source_label=source_label[:300],
        content_sha256=content_sha256,
        row_count=len(rows),
        inputs=profile_in,
        outputs=profile_out,
        created_by=actor,
    )
    audit_event_append(
        actor=actor,
        action="baseline.create",
        subject=baseline,
        scope_model=version.registered_model.name,
        scope_version=version.natural_key,
        data={
            "source": source,
            "source_label": baseline.source_label,
            "sha256": content_sha256,
            "rows": len(rows),
            "features": sorted(profile_in.get("features", {})),
            "version_status": version.status,
            "replaces": replaced.pk if replaced else None,
        },
    )
    return baseline


def csv_rows(data: bytes) -> list[dict[str, str]]:
    """Rows of a CSV file with a header line (UTF-8). Refuses what is not such a file."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("The reference file is not UTF-8 text.") from None
    if "\x00" in text:
        raise InvalidInput("The reference file is not a CSV file (it holds NUL bytes).")
    try:
        return list(csv.DictReader(io.StringIO(text)))
    except csv.Error as exc:
        raise InvalidInput(f"The reference file is not valid CSV: {exc}.") from None


def baseline_create_from_training_data(
    *, actor: User, version: ModelVersion, dataset_version: DatasetVersion | None = None
) -> BaselineProfile:
    """Profile the version's training dataset version (or ``dataset_version``), read from the
    artifact store by its content hash as a CSV file."""
    _require_writer(actor, version)
    if dataset_version is None:
        link = version.dataset_links.filter(role=DatasetRole.TRAIN).select_related(
            "dataset_version__dataset"
        )
        dataset_version = link.first().dataset_version if link.exists() else None
    if dataset_version is None:
        raise InvalidInput(
            f"{version} names no training dataset version; upload reference data instead."
        )
    # Only bytes the actor may read: their own upload, or one a record they may view links.
    # A dataset version's declared hash grants nothing, and bytes held for someone else get
    # the same answer as bytes Steward does not hold (no oracle).
    artifact = artifact_readable(actor, dataset_version.content_hash)
    if artifact is None:
        raise InvalidInput(
            f"The bytes of {dataset_version} (sha256 {dataset_version.content_hash[:12]}…) are "
            "not in Steward's artifact store; upload the file as an artifact or upload "
            "reference data."
        )
    with artifact_open(artifact) as handle:  # never through a link planted in the store
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != dataset_version.content_hash:
        raise InvalidInput(f"The stored bytes of {dataset_version} no longer match its hash.")
    return baseline_create(
        actor=actor,
        version=version,
        rows=csv_rows(data),
        source=BaselineSource.DATASET_VERSION,
        source_label=str(dataset_version),
        content_sha256=dataset_version.content_hash,
        dataset_version=dataset_version,
    )
