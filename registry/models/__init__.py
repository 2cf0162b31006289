from registry.models.access import ModelRoleAssignment
from registry.models.aliases import ModelAlias, ModelAliasMove
from registry.models.artifacts import Artifact
from registry.models.catalogue import ModelVersion, ModelVersionDataset, RegisteredModel, Tag
from registry.models.datasets import Dataset, DatasetVersion
from registry.models.lineage import LineageEdge, LineageNode
from registry.models.runs import Run, RunInput

__all__ = [
    "Artifact",
    "Dataset",
    "DatasetVersion",
    "LineageEdge",
    "LineageNode",
    "ModelAlias",
    "ModelAliasMove",
    "ModelRoleAssignment",
    "ModelVersion",
    "ModelVersionDataset",
    "RegisteredModel",
    "Run",
    "RunInput",
    "Tag",
]
