"""Roles held for one registered model, materialised as django-guardian object permissions."""

from __future__ import annotations

from django.db import transaction
from guardian.shortcuts import assign_perm, remove_perm

from accounts.access import access_forget
from accounts.constants import GLOBAL_ONLY_VERBS, ROLE_VERBS
from accounts.models import User
from accounts.services import require_administrator, role_get
from core.errors import Forbidden
from core.eventlog import audit_event_append
from registry.models import ModelRoleAssignment, RegisteredModel


def _perms(verbs) -> set[str]:
    """The model permissions of ``verbs``; a global-only verb (reading the audit) is never
    granted on one model."""
    return {f"registry.{verb}_registeredmodel" for verb in verbs - GLOBAL_ONLY_VERBS}


@transaction.atomic
def model_role_assign(
    *,
    actor: User | None,
    user: User,
    role: str,
    registered_model: RegisteredModel,
    note: str = "",
) -> ModelRoleAssignment:
    """Grant ``role`` to ``user`` for one model and its versions only (administrators only).
    The grant becomes guardian object permissions, so ``user.has_perm(perm, model)`` sees it."""
    require_administrator(actor)
    if actor is not None and actor.pk == user.pk and not actor.is_superuser:
        raise Forbidden("Nobody may grant roles to themselves.")
    assignment, _ = ModelRoleAssignment.objects.get_or_create(
        user=user,
        role=role_get(role),
        registered_model=registered_model,
        defaults={"granted_by": actor, "note": note},
    )
    for perm in _perms(ROLE_VERBS[role]):
        assign_perm(perm, user, registered_model)
    audit_event_append(
        actor=actor,
        action="role.grant",
        subject=assignment,
        scope_model=registered_model.name,
        data={"user": user.username, "role": role, "model": registered_model.name},
    )
    access_forget(user)
    return assignment


@transaction.atomic
def model_role_revoke(*, actor: User | None, assignment: ModelRoleAssignment) -> None:
    """Take a model-scoped role away; permissions still implied by the user's other roles on
    the same model are kept."""
    require_administrator(actor)
    user, model = assignment.user, assignment.registered_model
    audit_event_append(
        actor=actor,
        action="role.revoke",
        subject=assignment,
        scope_model=model.name,
        data={"user": user.username, "role": assignment.role.name, "model": model.name},
    )
    assignment.delete()
    remaining: set[str] = set()
    for other in ModelRoleAssignment.objects.filter(user=user, registered_model=model):
        remaining |= _perms(ROLE_VERBS[other.role.name])
    for perm in _perms(set().union(*ROLE_VERBS.values())) - remaining:
        remove_perm(perm, user, model)
    access_forget(user)
