"""Every write on governance goes through one of these functions."""

from governance.services.annotations import (
    annotation_create,
    annotation_resolve,
    annotation_resolve_refusal,
)
from governance.services.reclassify import model_reclassify
from governance.services.transitions import motivation_clean, version_transition

__all__ = [
    "annotation_create",
    "annotation_resolve",
    "annotation_resolve_refusal",
    "model_reclassify",
    "motivation_clean",
    "version_transition",
]
