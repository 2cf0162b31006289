"""Every write on the registry goes through one of these functions."""

from registry.services.access import model_role_assign, model_role_revoke
from registry.services.artifacts import artifact_store
from registry.services.catalogue import (
    model_version_register,
    model_version_run_attach,
    model_version_update,
    registered_model_classification_set,
    registered_model_create,
    registered_model_update,
)
from registry.services.datasets import dataset_create, dataset_update, dataset_version_create
from registry.services.lineage import lineage_edge_add, lineage_node_ensure
from registry.services.runs import run_create, run_inputs_add, run_update

__all__ = [
    "artifact_store",
    "dataset_create",
    "dataset_update",
    "dataset_version_create",
    "lineage_edge_add",
    "lineage_node_ensure",
    "model_role_assign",
    "model_role_revoke",
    "model_version_register",
    "model_version_run_attach",
    "model_version_update",
    "registered_model_classification_set",
    "registered_model_create",
    "registered_model_update",
    "run_create",
    "run_inputs_add",
    "run_update",
]
