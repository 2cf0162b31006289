"""Every write on governance goes through one of these functions."""

from governance.services.annotations import annotation_create, annotation_resolve
from governance.services.transitions import motivation_clean, version_transition

__all__ = ["annotation_create", "annotation_resolve", "motivation_clean", "version_transition"]
