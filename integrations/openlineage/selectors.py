"""Reads for the pages: where a run reported through OpenLineage came from, and the column
lineage of what it wrote, as a user sees it (outputs in teams the user may not see are counted,
never named)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accounts.models import User
from integrations.models import OpenLineageDatasetVersion, OpenLineageRun, OpenLineageRunDataset
from integrations.openlineage.constants import DatasetUse
from registry.models import DatasetVersion, Run
from registry.permissions import Visibility


@dataclass
class ColumnLineageRow:
    """One output column and the input columns it was made from."""

    field: str
    inputs: list[str]
    transformation: str


@dataclass
class ColumnLineage:
    """The column lineage one run reported for one output version."""

    output: DatasetVersion
    run: Run
    rows: list[ColumnLineageRow] = field(default_factory=list)


@dataclass
class RunOrigin:
    ol_run: OpenLineageRun
    job_facets: list[str]
    event_count: int
    column_lineage: list[ColumnLineage]
    hidden_outputs: int


def run_origin(user: User, run: Run) -> RunOrigin | None:
    """What OpenLineage said about ``run`` (None if it was not reported through it). The
    caller has checked that ``user`` may see the run."""
    ol_run = OpenLineageRun.objects.select_related("job").filter(run=run).first()
    if ol_run is None:
        return None
    visible = Visibility(user)
    outputs = OpenLineageRunDataset.objects.filter(
        ol_run=ol_run, use=DatasetUse.OUTPUT
    ).select_related("ol_version__dataset_version__dataset")
    lineage, hidden = [], 0
    for use in outputs:
        version = use.ol_version.dataset_version
        if not visible.dataset_version(version):
            hidden += 1
        elif use.column_lineage:
            lineage.append(ColumnLineage(version, run, _rows(use.column_lineage)))
    return RunOrigin(
        ol_run=ol_run,
        job_facets=sorted(ol_run.job.facets),
        event_count=ol_run.events.count(),
        column_lineage=lineage,
        hidden_outputs=hidden,
    )


@dataclass
class VersionOrigin:
    ol_version: OpenLineageDatasetVersion
    column_lineage: list[ColumnLineage]


def dataset_version_origin(user: User, version: DatasetVersion) -> VersionOrigin | None:
    """The OpenLineage identity of ``version`` and the column lineage of the runs that wrote
    it that ``user`` may see (None if it was not reported through OpenLineage)."""
    ol_version = (
        OpenLineageDatasetVersion.objects.select_related("ol_dataset")
        .filter(dataset_version=version)
        .first()
    )
    if ol_version is None:
        return None
    visible = Visibility(user)
    writes = OpenLineageRunDataset.objects.filter(
        ol_version=ol_version, use=DatasetUse.OUTPUT
    ).select_related("ol_run__run")
    lineage = [
        ColumnLineage(version, use.ol_run.run, _rows(use.column_lineage))
        for use in writes
        if use.column_lineage and visible.run(use.ol_run.run)
    ]
    return VersionOrigin(ol_version=ol_version, column_lineage=lineage)


def _rows(column_lineage: dict[str, Any]) -> list[ColumnLineageRow]:
    """The ``columnLineage`` facet's fields as rows, in the sender's own words."""
    rows = []
    fields = column_lineage.get("fields")
    for name, spec in sorted((fields or {}).items()) if isinstance(fields, dict) else []:
        spec = spec if isinstance(spec, dict) else {}
        inputs, kinds = [], []
        for item in spec.get("inputFields") or []:
            if not isinstance(item, dict):
                continue
            inputs.append(
                f"{item.get('namespace', '')}/{item.get('name', '')} · {item.get('field', '')}"
            )
            for step in item.get("transformations") or []:
                if isinstance(step, dict) and step.get("type"):
                    kinds.append("/".join(str(step[k]) for k in ("type", "subtype") if step.get(k)))
        if spec.get("transformationType"):
            kinds.append(str(spec["transformationType"]))
        description = spec.get("transformationDescription")
        transformation = ", ".join(dict.fromkeys(kinds))
        if isinstance(description, str) and description:
            transformation = f"{transformation} ({description})" if transformation else description
        rows.append(ColumnLineageRow(str(name), inputs, transformation))
    return rows
