"""MLflow datasets (``mlflow.log_input``) as Steward dataset versions.

An MLflow dataset is known by its name, digest and source. It becomes a version of a Steward
dataset owned by the run's team: the dataset of that name if the team owns it or nobody does,
else one with the team's slug added (another team's dataset is never touched). The version is
keyed by (source, digest): its content hash is the SHA-256 of ``mlflow-dataset:<digest>:
<source>`` (MLflow's digest is no hash of the bytes Steward could check), so logging the same
dataset again reuses the version. What MLflow said (name, digest, source type, source, schema,
profile) is kept in the version's ``profile["mlflow_dataset"]`` and its schema."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from accounts.models import Team, User
from core.errors import InvalidInput
from integrations.mlflow.tracking import constants as c
from registry.choices import DatasetRole
from registry.models import Dataset, DatasetVersion
from registry.services.datasets import dataset_create, dataset_version_create

_NOT_NAME = re.compile(r"[^a-z0-9._-]+")
MAX_FIELD = 1_000_000


@dataclass(frozen=True)
class LoggedDataset:
    name: str
    digest: str
    source_type: str
    source: str
    schema: str = ""
    profile: str = ""
    context: str = ""

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(f"mlflow-dataset:{self.digest}:{self.source}".encode()).hexdigest()

    @property
    def role(self) -> str:
        return c.DATASET_CONTEXT_ROLES.get(self.context.strip().lower(), DatasetRole.INPUT)


def logged_dataset_read(entry) -> LoggedDataset:
    """One ``DatasetInput`` of log-inputs, checked."""
    if not isinstance(entry, dict) or not isinstance(entry.get("dataset"), dict):
        raise InvalidInput("Each dataset input needs a 'dataset' object.")
    dataset = entry["dataset"]
    fields = {}
    for name in ("name", "digest", "source_type", "source", "schema", "profile"):
        value = dataset.get(name, "")
        if not isinstance(value, str) or "\x00" in value or len(value) > MAX_FIELD:
            raise InvalidInput(f"Dataset field '{name}' must be a string without NUL.")
        fields[name] = value
    for name in ("name", "digest", "source_type", "source"):
        if not fields[name].strip():
            raise InvalidInput(f"Dataset field '{name}' is required.")
    if len(fields["name"]) > 500 or len(fields["digest"]) > 256:
        raise InvalidInput("A dataset's name or digest is too long.")
    tags = entry.get("tags") or []
    if not isinstance(tags, list):
        raise InvalidInput("A dataset input's tags are a list.")
    context = ""
    for tag in tags:
        if isinstance(tag, dict) and tag.get("key") == c.DATASET_CONTEXT_TAG:
            context = str(tag.get("value") or "")
    return LoggedDataset(context=context, **fields)


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _uri_of(logged: LoggedDataset) -> str:
    """Where the data is: the url/uri/path MLflow's source JSON names, else the source."""
    source = _json_object(logged.source)
    for key in ("url", "uri", "path", "location"):
        if isinstance(source.get(key), str) and source[key]:
            return source[key][:1000]
    return logged.source[:1000]


def _dataset_of(actor: User, team: Team, name: str) -> Dataset:
    base = _NOT_NAME.sub("-", name.lower()).strip("-._")[:100] or "dataset"
    for candidate in (base, f"{base}-{team.slug}"[:128]):
        found = Dataset.objects.filter(name=candidate).first()
        if found is None:
            return dataset_create(
                actor=actor,
                name=candidate,
                owner_team=team,
                description=f"Logged through MLflow as '{name[:200]}'.",
            )
        if found.owner_team_id == team.pk:
            return found
    digest = hashlib.sha256(f"{team.pk}\n{name}".encode()).hexdigest()[:12]
    candidate = f"{base[:100]}-{team.slug[:14]}-{digest}"
    found = Dataset.objects.filter(name=candidate, owner_team=team).first()
    return found or dataset_create(
        actor=actor,
        name=candidate,
        owner_team=team,
        description=f"Logged through MLflow as '{name[:200]}'.",
    )


def dataset_version_for(actor: User, team: Team, logged: LoggedDataset) -> DatasetVersion:
    """The team's version of ``logged``: found by its (source, digest) key, else recorded."""
    found = (
        DatasetVersion.objects.select_related("dataset")
        .filter(dataset__owner_team=team, content_hash=logged.content_hash)
        .order_by("pk")
        .first()
    )
    if found is not None:
        return found
    profile = _json_object(logged.profile)
    rows = profile.get("num_rows")
    return dataset_version_create(
        actor=actor,
        dataset=_dataset_of(actor, team, logged.name),
        uri=_uri_of(logged),
        content_hash=logged.content_hash,
        row_count=rows
        if isinstance(rows, int) and not isinstance(rows, bool) and rows >= 0
        else None,
        schema=_json_object(logged.schema),
        profile={
            "mlflow_dataset": {
                "name": logged.name,
                "digest": logged.digest,
                "source_type": logged.source_type,
                "source": logged.source,
                "schema": logged.schema,
                "profile": logged.profile,
            }
        },
        description=f"MLflow dataset '{logged.name[:200]}', digest {logged.digest[:64]}.",
    )
