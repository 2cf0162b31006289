"""Every write on governance goes through one of these functions."""

from governance.services.aliases import model_alias_delete, model_alias_set
from governance.services.annotations import (
    annotation_create,
    annotation_resolve,
    annotation_resolve_refusal,
)
from governance.services.deletion import model_version_delete, registered_model_delete
from governance.services.reclassify import model_reclassify
from governance.services.transitions import motivation_clean, version_transition

__all__ = [
    "annotation_create",
    "annotation_resolve",
    "annotation_resolve_refusal",
    "model_alias_delete",
    "model_alias_set",
    "model_reclassify",
    "model_version_delete",
    "motivation_clean",
    "registered_model_delete",
    "version_transition",
]
