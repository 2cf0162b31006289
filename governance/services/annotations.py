"""Writes on annotations."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from accounts.access import governed_spec
from accounts.choices import Verb
from accounts.models import User
from core.errors import Conflict, InvalidInput
from governance.choices import AnnotationKind
from governance.models import Annotation
from registry.permissions import require

MAX_BODY = 20_000


@transaction.atomic
def annotation_create(
    *,
    actor: User,
    target: models.Model,
    body: str,
    kind: str = AnnotationKind.NOTE,
    parent: Annotation | None = None,
) -> Annotation:
    """Write a note, question or finding on a governed object (or reply to one)."""
    if governed_spec(target) is None:
        raise InvalidInput(
            "Annotations can be written on models, versions, datasets, runs and decisions only."
        )
    require(actor, Verb.ANNOTATE, target)
    body = (body or "").strip()
    if not body:
        raise InvalidInput("An annotation needs a body.", field_errors={"body": ["Required."]})
    if len(body) > MAX_BODY:
        raise InvalidInput(
            f"An annotation is at most {MAX_BODY} characters.",
            field_errors={"body": [f"At most {MAX_BODY} characters."]},
        )
    if kind not in AnnotationKind.values:
        raise InvalidInput(f"Unknown kind '{kind}'.", field_errors={"kind": ["Unknown kind."]})
    target_type = ContentType.objects.get_for_model(target)
    if parent is not None and (parent.target_type_id, parent.target_id) != (
        target_type.pk,
        target.pk,
    ):
        raise InvalidInput("A reply must be on the same object as the note it answers.")
    return Annotation.objects.create(
        target_type=target_type,
        target_id=target.pk,
        parent=parent,
        author=actor,
        kind=kind,
        body=body,
    )


@transaction.atomic
def annotation_resolve(*, actor: User, annotation: Annotation) -> Annotation:
    """Mark an annotation (typically a finding) resolved."""
    annotation = Annotation.objects.select_for_update().get(pk=annotation.pk)
    require(actor, Verb.ANNOTATE, annotation.target)
    if annotation.resolved_at is not None:
        raise Conflict("This annotation is already resolved.")
    annotation.resolved_at = timezone.now()
    annotation.resolved_by = actor
    annotation.save(update_fields=["resolved_at", "resolved_by", "updated_at"])
    return annotation
