"""Rows the integrations keep beside the registry's: what a protocol says that Steward's own
models have no field for, linked to the registry rows it was translated into."""

from integrations.models.mlflow import (
    MlflowArtifactFile,
    MlflowExperiment,
    MlflowLoggedModel,
    MlflowMetric,
    MlflowModelTag,
    MlflowRun,
    MlflowVersionSource,
    MlflowVersionTag,
)
from integrations.models.openlineage import (
    OpenLineageDataset,
    OpenLineageDatasetVersion,
    OpenLineageEvent,
    OpenLineageJob,
    OpenLineageRun,
    OpenLineageRunDataset,
)

__all__ = [
    "MlflowArtifactFile",
    "MlflowExperiment",
    "MlflowLoggedModel",
    "MlflowMetric",
    "MlflowModelTag",
    "MlflowRun",
    "MlflowVersionSource",
    "MlflowVersionTag",
    "OpenLineageDataset",
    "OpenLineageDatasetVersion",
    "OpenLineageEvent",
    "OpenLineageJob",
    "OpenLineageRun",
    "OpenLineageRunDataset",
]
