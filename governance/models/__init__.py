from governance.models.annotations import Annotation
from governance.models.decisions import Decision
from governance.models.documents import DocumentTemplate, FreeTextSection, GeneratedDocument
from governance.models.policy import Policy

__all__ = [
    "Annotation",
    "Decision",
    "DocumentTemplate",
    "FreeTextSection",
    "GeneratedDocument",
    "Policy",
]
