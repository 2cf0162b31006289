"""OpenLineage events as plain JSON, shaped as openlineage-python and the integrations send
them (spec 2-0-2), for tests that need exact control over what is sent."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"
SPEC = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
FACET = "https://openlineage.io/spec/facets/1-0-1/"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def facet(name: str, **content: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": f"{FACET}{name}.json", **content}


def schema(*columns: tuple[str, str]) -> dict[str, Any]:
    return facet("SchemaDatasetFacet", fields=[{"name": n, "type": t} for n, t in columns])


def dataset(
    namespace: str,
    name: str,
    *,
    columns: tuple[tuple[str, str], ...] = (),
    version: str | None = None,
    source: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    facets: dict[str, Any] = {}
    if columns:
        facets["schema"] = schema(*columns)
    if version is not None:
        facets["version"] = facet("DatasetVersionDatasetFacet", datasetVersion=version)
    if source is not None:
        facets["dataSource"] = facet("DatasourceDatasetFacet", name=source, uri=source)
    facets.update(extra.pop("facets", {}))
    return {"namespace": namespace, "name": name, "facets": facets, **extra}


def run_event(
    event_type: str | None,
    run_id: uuid.UUID | str,
    *,
    job: tuple[str, str] = ("etl", "daily_loans"),
    time: str | None = None,
    inputs: list[dict] = (),
    outputs: list[dict] = (),
    run_facets: dict | None = None,
    job_facets: dict | None = None,
    producer: str = PRODUCER,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "eventTime": time or at(0),
        "producer": producer,
        "schemaURL": f"{SPEC}#/$defs/RunEvent",
        "run": {"runId": str(run_id), "facets": run_facets or {}},
        "job": {"namespace": job[0], "name": job[1], "facets": job_facets or {}},
        "inputs": list(inputs),
        "outputs": list(outputs),
    }
    if event_type is not None:
        event["eventType"] = event_type
    return event


def dataset_event(ds: dict[str, Any], *, time: str | None = None) -> dict[str, Any]:
    return {
        "eventTime": time or at(0),
        "producer": PRODUCER,
        "schemaURL": f"{SPEC}#/$defs/DatasetEvent",
        "dataset": {k: v for k, v in ds.items() if k in ("namespace", "name", "facets")},
    }


def model_output(name: str, version: int, *, namespace: str = "s3://models") -> dict[str, Any]:
    """An output naming the model version the run produced (the custom facet)."""
    return {
        "namespace": namespace,
        "name": f"{name}/v{version}",
        "facets": {},
        "outputFacets": {
            "steward_modelVersion": {
                "_producer": PRODUCER,
                "_schemaURL": "https://steward.example/spec/steward_modelVersion.json",
                "name": name,
                "version": version,
            }
        },
    }
