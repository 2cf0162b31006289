from governance.models.annotations import Annotation
from governance.models.decisions import Decision
from governance.models.policy import Policy

__all__ = ["Annotation", "Decision", "Policy"]
