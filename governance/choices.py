"""Enumerations of governance."""

from __future__ import annotations

from django.db import models


class Action(models.TextChoices):
    """Decisions a person takes on a model version. Each is a row in ``Decision``."""

    SUBMIT = "submit", "Submit for validation"
    CLAIM = "claim", "Claim for validation"
    SIGN_OFF = "sign_off", "Sign off"
    REQUEST_CHANGES = "request_changes", "Request changes"
    REJECT = "reject", "Reject"
    REVISE = "revise", "Return to draft"
    APPROVE = "approve", "Approve for production"
    PROMOTE = "promote", "Put in production"
    FLAG = "flag", "Flag for review"
    CLEAR_FLAG = "clear_flag", "Clear the flag"
    DEPRECATE = "deprecate", "Deprecate"
    ARCHIVE = "archive", "Archive"
    # A change of the model's risk tier or owning team while this version is under review or
    # in production; it re-opens validation when the stricter policy is not met.
    RECLASSIFY = "reclassify", "Reclassify"


class AnnotationKind(models.TextChoices):
    NOTE = "note", "Note"
    QUESTION = "question", "Question"
    FINDING = "finding", "Finding"
    MOTIVATION = "motivation", "Motivation"


class DocumentStatus(models.TextChoices):
    """Where a generated document is: waiting for a worker, being rendered, stored, or failed
    (with its message on the row)."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
