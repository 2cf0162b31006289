"""Reading an OpenLineage event (spec 2-x) into a checked, typed form, before anything is written.

Every problem is collected with the JSON path it was found at, so a client learns all its
mistakes from one 400 (``{"errors": {"run.runId": ["..."]}}``). Only what Steward translates is
checked strictly; unknown fields and facets are kept as sent, as the spec allows.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from core.errors import InvalidInput
from integrations.openlineage.constants import (
    MAX_DATASETS,
    MAX_NAME,
    MAX_NAMESPACE,
    MAX_PRODUCER,
    MAX_VERSION,
    MODEL_VERSION_FACET,
    EventKind,
    EventType,
)

# Keys every facet carries that say nothing about the data.
FACET_BOOKKEEPING = ("_producer", "_schemaURL", "_deleted")


@dataclass(frozen=True)
class ModelVersionRef:
    """What the ``steward_modelVersion`` output facet names: a registered model's version."""

    name: str
    version: int


@dataclass(frozen=True)
class DatasetRef:
    """A dataset an event names, with its facets and (for inputs and outputs) the facets of
    that use. ``path`` is where it was in the event, for error messages."""

    namespace: str
    name: str
    facets: dict[str, Any]
    use_facets: dict[str, Any]
    path: str
    model_version: ModelVersionRef | None = None

    def facet(self, name: str) -> dict[str, Any]:
        value = self.facets.get(name)
        return value if isinstance(value, dict) else {}

    @property
    def version(self) -> str | None:
        value = self.facet("version").get("datasetVersion")
        return str(value) if value not in (None, "") else None

    @property
    def schema(self) -> dict[str, Any]:
        """The schema facet as the registry stores it: ``{"fields": [...]}``."""
        fields = self.facet("schema").get("fields")
        if not isinstance(fields, list) or not fields:
            return {}
        return {"fields": [_field_clean(f) for f in fields]}

    @property
    def source_uri(self) -> str:
        uri = self.facet("dataSource").get("uri")
        return uri if isinstance(uri, str) else ""

    @property
    def location(self) -> str:
        """Where the data is: the dataSource URI (else the namespace) joined with the name,
        OpenLineage's own naming convention."""
        base = (self.source_uri or self.namespace).rstrip("/")
        return base if base.endswith(self.name) else f"{base}/{self.name}"

    @property
    def column_lineage(self) -> dict[str, Any]:
        facet = self.facet("columnLineage")
        return {k: v for k, v in facet.items() if k not in FACET_BOOKKEEPING}


@dataclass(frozen=True)
class ParsedEvent:
    kind: str
    event_type: str
    event_time: datetime
    producer: str
    body: dict[str, Any]
    run_id: uuid.UUID | None = None
    run_facets: dict[str, Any] = field(default_factory=dict)
    job_namespace: str = ""
    job_name: str = ""
    job_facets: dict[str, Any] = field(default_factory=dict)
    inputs: tuple[DatasetRef, ...] = ()
    outputs: tuple[DatasetRef, ...] = ()
    dataset: DatasetRef | None = None

    @property
    def namespace(self) -> str:
        """The namespace that decides the event's team: its job's, or its dataset's."""
        return self.job_namespace or (self.dataset.namespace if self.dataset else "")

    @property
    def sha256(self) -> str:
        """Hash of the event's canonical JSON (sorted keys): equal for a resent event however
        its client ordered or spaced it."""
        return hashlib.sha256(orjson.dumps(self.body, option=orjson.OPT_SORT_KEYS)).hexdigest()


class _Errors:
    def __init__(self) -> None:
        self.found: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.found.setdefault(path, []).append(message)

    def raise_if_any(self) -> None:
        if self.found:
            path, messages = next(iter(self.found.items()))
            raise InvalidInput(
                f"Invalid OpenLineage event: {path}: {messages[0]}", field_errors=self.found
            )


def event_parse(body: Any) -> ParsedEvent:
    """Check ``body`` as a RunEvent, DatasetEvent or JobEvent and return it parsed; raise
    InvalidInput with every problem found."""
    errors = _Errors()
    if not isinstance(body, dict):
        errors.add("event", "An event is a JSON object.")
        errors.raise_if_any()
    event_time = _event_time(body, errors)
    producer = _text(body, "producer", "producer", errors, MAX_PRODUCER)
    _text(body, "schemaURL", "schemaURL", errors, MAX_PRODUCER)
    if "run" in body:
        parsed = _run_event(body, errors, event_time, producer)
    elif "dataset" in body:
        parsed = _dataset_event(body, errors, event_time, producer)
    elif "job" in body:
        parsed = _job_event(body, errors, event_time, producer)
    else:
        errors.add("event", "Not a RunEvent (run, job), DatasetEvent (dataset) or JobEvent (job).")
        parsed = None
    errors.raise_if_any()
    return parsed


def _run_event(body, errors, event_time, producer) -> ParsedEvent:
    run = _object(body, "run", "run", errors) or {}
    run_id = None
    raw_id = run.get("runId")
    if raw_id in (None, ""):
        errors.add("run.runId", "Required: the run's UUID.")
    else:
        try:
            run_id = uuid.UUID(str(raw_id))
        except ValueError:
            errors.add("run.runId", f"Not a UUID: {str(raw_id)[:80]!r}.")
    event_type = body.get("eventType")
    if event_type is not None and event_type not in EventType.values:
        errors.add(
            "eventType",
            f"Unknown eventType {str(event_type)[:40]!r}: one of {', '.join(EventType.values)}.",
        )
    job_namespace, job_name, job_facets = _job(body, errors)
    return ParsedEvent(
        kind=EventKind.RUN,
        event_type=event_type or "",
        event_time=event_time,
        producer=producer,
        body=body,
        run_id=run_id,
        run_facets=_facets(run, "run.facets", errors),
        job_namespace=job_namespace,
        job_name=job_name,
        job_facets=job_facets,
        inputs=_datasets(body, "inputs", "inputFacets", errors),
        outputs=_datasets(body, "outputs", "outputFacets", errors),
    )


def _dataset_event(body, errors, event_time, producer) -> ParsedEvent:
    dataset = _object(body, "dataset", "dataset", errors)
    ref = _dataset(dataset, "dataset", None, errors) if dataset is not None else None
    return ParsedEvent(
        kind=EventKind.DATASET,
        event_type="",
        event_time=event_time,
        producer=producer,
        body=body,
        dataset=ref,
    )


def _job_event(body, errors, event_time, producer) -> ParsedEvent:
    job_namespace, job_name, job_facets = _job(body, errors)
    return ParsedEvent(
        kind=EventKind.JOB,
        event_type="",
        event_time=event_time,
        producer=producer,
        body=body,
        job_namespace=job_namespace,
        job_name=job_name,
        job_facets=job_facets,
        inputs=_datasets(body, "inputs", "inputFacets", errors),
        outputs=_datasets(body, "outputs", "outputFacets", errors),
    )


def _event_time(body: dict, errors: _Errors) -> datetime:
    raw = body.get("eventTime")
    if not isinstance(raw, str) or not raw:
        errors.add("eventTime", "Required: an ISO 8601 date-time with a time zone.")
        return datetime.min
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        errors.add("eventTime", f"Not an ISO 8601 date-time: {raw[:60]!r}.")
        return datetime.min
    if value.tzinfo is None:
        errors.add("eventTime", f"{raw[:60]!r} has no time zone (add Z or an offset).")
    return value


def _job(body: dict, errors: _Errors) -> tuple[str, str, dict]:
    job = _object(body, "job", "job", errors) or {}
    namespace = _text(job, "namespace", "job.namespace", errors, MAX_NAMESPACE)
    name = _text(job, "name", "job.name", errors, MAX_NAME)
    return namespace, name, _facets(job, "job.facets", errors)


def _datasets(body: dict, key: str, use_key: str, errors: _Errors) -> tuple[DatasetRef, ...]:
    items = body.get(key)
    if items is None:
        return ()
    if not isinstance(items, list):
        errors.add(key, "A list of datasets.")
        return ()
    if len(items) > MAX_DATASETS:
        errors.add(key, f"At most {MAX_DATASETS} datasets in one event.")
        return ()
    refs = []
    for index, item in enumerate(items):
        path = f"{key}[{index}]"
        if not isinstance(item, dict):
            errors.add(path, "A dataset is an object with namespace and name.")
            continue
        ref = _dataset(item, path, use_key, errors)
        if ref is not None:
            refs.append(ref)
    return tuple(refs)


def _dataset(item: dict, path: str, use_key: str | None, errors: _Errors) -> DatasetRef | None:
    count = sum(len(messages) for messages in errors.found.values())
    namespace = _text(item, "namespace", f"{path}.namespace", errors, MAX_NAMESPACE)
    name = _text(item, "name", f"{path}.name", errors, MAX_NAME)
    facets = _facets(item, f"{path}.facets", errors)
    use_facets = _facets(item, f"{path}.{use_key}", errors) if use_key else {}
    _check_known_facets(facets, f"{path}.facets", errors)
    model_version = None
    if MODEL_VERSION_FACET in use_facets:
        if use_key != "outputFacets":
            errors.add(f"{path}.{use_key}.{MODEL_VERSION_FACET}", "Only outputs name a model.")
        else:
            model_version = _model_version(
                use_facets[MODEL_VERSION_FACET], f"{path}.{use_key}.{MODEL_VERSION_FACET}", errors
            )
    if sum(len(messages) for messages in errors.found.values()) > count:
        return None
    return DatasetRef(namespace, name, facets, use_facets, path, model_version)


def _check_known_facets(facets: dict, path: str, errors: _Errors) -> None:
    """The facets Steward stores in registry fields must have the spec's shape."""
    version = facets.get("version")
    if version is not None:
        value = version.get("datasetVersion") if isinstance(version, dict) else None
        if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
            errors.add(f"{path}.version.datasetVersion", "Required: the version, a string.")
        elif len(str(value)) > MAX_VERSION:
            errors.add(f"{path}.version.datasetVersion", f"At most {MAX_VERSION} characters.")
    schema = facets.get("schema")
    if schema is not None:
        fields = schema.get("fields") if isinstance(schema, dict) else None
        if not isinstance(fields, list) or not all(
            isinstance(f, dict) and isinstance(f.get("name"), str) for f in fields
        ):
            errors.add(f"{path}.schema.fields", "A list of fields, each with a name.")
    source = facets.get("dataSource")
    if source is not None:
        uri = source.get("uri") if isinstance(source, dict) else None
        if uri is not None and (not isinstance(uri, str) or len(uri) > MAX_NAMESPACE):
            errors.add(f"{path}.dataSource.uri", f"A URI of at most {MAX_NAMESPACE} characters.")
    lineage = facets.get("columnLineage")
    if lineage is not None and not isinstance(
        lineage.get("fields") if isinstance(lineage, dict) else None, dict
    ):
        errors.add(f"{path}.columnLineage.fields", "An object of output field -> its inputs.")


def _model_version(facet: Any, path: str, errors: _Errors) -> ModelVersionRef | None:
    if not isinstance(facet, dict):
        errors.add(path, "An object with the registered model's name and version.")
        return None
    name, version = facet.get("name"), facet.get("version")
    if not isinstance(name, str) or not name:
        errors.add(f"{path}.name", "Required: the registered model's name.")
    try:
        number = int(version)
    except (TypeError, ValueError):
        number = 0
    if isinstance(version, bool) or number < 1:
        errors.add(f"{path}.version", "Required: the model version's number (1, 2, ...).")
    if path in errors.found or f"{path}.name" in errors.found or f"{path}.version" in errors.found:
        return None
    return ModelVersionRef(name, number)


def _object(body: dict, key: str, path: str, errors: _Errors) -> dict | None:
    value = body.get(key)
    if not isinstance(value, dict):
        errors.add(path, "Required: an object.")
        return None
    return value


def _text(body: dict, key: str, path: str, errors: _Errors, limit: int) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        errors.add(path, "Required: a non-empty string.")
        return ""
    if len(value) > limit:
        errors.add(path, f"At most {limit} characters.")
        return ""
    return value


def _facets(owner: dict, path: str, errors: _Errors) -> dict[str, Any]:
    key = path.rsplit(".", 1)[-1]
    facets = owner.get(key)
    if facets is None:
        return {}
    if not isinstance(facets, dict):
        errors.add(path, "An object of facet name -> facet object.")
        return {}
    # A facet that is not an object (null from some emitters) says nothing: left out.
    return {name: facet for name, facet in facets.items() if isinstance(facet, dict)}


def _field_clean(field: dict[str, Any]) -> dict[str, Any]:
    """A schema field without the empty values clients send (``"fields": []`` on a column
    with no sub-fields), nested fields cleaned the same way."""
    clean = {k: v for k, v in field.items() if v not in (None, [], {}, "")}
    if isinstance(clean.get("fields"), list):
        clean["fields"] = [_field_clean(f) for f in clean["fields"] if isinstance(f, dict)]
    return clean


def facet_content(facet: dict[str, Any]) -> dict[str, Any]:
    """A facet without its bookkeeping keys (_producer, _schemaURL)."""
    return {k: v for k, v in facet.items() if k not in FACET_BOOKKEEPING}
