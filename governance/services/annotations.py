"""Writes on annotations."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from accounts.access import governed_spec, may, require
from accounts.choices import Verb
from accounts.models import User
from core.errors import Conflict, Forbidden, InvalidInput
from core.eventlog import audit_event_append
from governance.choices import Action, AnnotationKind
from governance.models import Annotation, Decision
from governance.services.transitions import motivation_clean
from registry.models import ModelVersion, RegisteredModel

MAX_BODY = 20_000


def can_annotate(user: User, target: models.Model) -> bool:
    """Whether :func:`annotation_create` would let ``user`` write on ``target`` (a page shows
    its note form only then)."""
    return may(user, Verb.ANNOTATE, target)


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
    annotation = Annotation.objects.create(
        target_type=target_type,
        target_id=target.pk,
        parent=parent,
        author=actor,
        kind=kind,
        body=body,
    )
    _annotation_audit(actor, annotation, "annotation.create", {"kind": kind, "body": body})
    return annotation


@transaction.atomic
def annotation_resolve(*, actor: User, annotation: Annotation, motivation: str) -> Annotation:
    """Resolve a finding (or close a question or note) with a written motivation, which is
    posted as a reply in its thread. Who may is :func:`annotation_resolve_refusal`'s answer."""
    annotation = Annotation.objects.select_for_update().get(pk=annotation.pk)
    require(actor, Verb.VIEW, annotation.target)
    refusal = annotation_resolve_refusal(actor, annotation)
    if refusal:
        raise Forbidden(refusal)
    if annotation.resolved_at is not None:
        raise Conflict("This annotation is already resolved.")
    motivation = motivation_clean(motivation)
    annotation.resolved_at = timezone.now()
    annotation.resolved_by = actor
    annotation.save(update_fields=["resolved_at", "resolved_by", "updated_at"])
    Annotation.objects.create(
        target_type=annotation.target_type,
        target_id=annotation.target_id,
        parent=annotation,
        author=actor,
        kind=AnnotationKind.MOTIVATION,
        body=motivation,
    )
    _annotation_audit(actor, annotation, "annotation.resolve", {"motivation": motivation})
    return annotation


def annotation_resolve_refusal(
    actor: User, annotation: Annotation, target=None, developers: set[int] | None = None
) -> str:
    """Why ``actor`` may not resolve ``annotation`` ("" if they may).

    A finding is the reviewer's: its author, or anyone who may validate or approve the model,
    resolves it, and never the registrant or a submitter of the version it is about, however
    many roles they hold, because the developer does not close the validator's objection.
    ``target`` (the annotation's target) and ``developers`` (``version_developer_ids`` of its
    version) are passed by callers that ask for many annotations at once."""
    target = target if target is not None else annotation.target
    version = _version_of(target)
    if developers is None and version is not None:
        developers = version_developer_ids(version)
    if version is not None and actor.pk in developers:
        return (
            "You registered or submitted this version; a finding on it is resolved by its "
            "author or by a validator or approver."
        )
    if actor.pk == annotation.author_id:
        return ""
    for verb in (Verb.VALIDATE, Verb.APPROVE):
        if may(actor, verb, target):
            return ""
    return (
        f"A {annotation.get_kind_display().lower()} is resolved by its author or by a "
        "validator or approver of the model."
    )


def _version_of(target) -> ModelVersion | None:
    if isinstance(target, ModelVersion):
        return target
    if isinstance(target, Decision):
        return target.version
    return None


def version_developer_ids(version: ModelVersion) -> set[int]:
    """The registrant and every submitter of ``version``: never its reviewers."""
    submitters = version.decisions.filter(action=Action.SUBMIT).values_list("actor_id", flat=True)
    return {version.registered_by_id, *submitters}


def _annotation_audit(actor: User, annotation: Annotation, action: str, data: dict) -> None:
    target = annotation.target
    version = _version_of(target)
    if isinstance(target, RegisteredModel):
        model = target
    else:
        model = getattr(target, "registered_model", None) or (
            version.registered_model if version is not None else None
        )
    audit_event_append(
        actor=actor,
        action=action,
        subject=annotation,
        scope_model=model.name if model is not None else "",
        scope_version=version.natural_key if version is not None else "",
        data={
            "annotation": annotation.pk,
            "target": f"{annotation.target_type.model}:{annotation.target_id}",
            **data,
        },
    )
