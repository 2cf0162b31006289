"""Edits of the per-tier policies (in the admin): saved with their before and after values in
the audit chain, in the same transaction, so a loosened rule is on the record."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from core.errors import Forbidden
from core.eventlog import audit_event_append
from governance.models import Policy

POLICY_FIELDS = (
    "risk_tier",
    "description",
    "required_sign_offs",
    "metric_checks",
    "required_documents",
    "approval_documents",
    "revalidation_days",
    "block_on_open_findings",
)


@transaction.atomic
def policy_save(*, actor: User, policy: Policy) -> Policy:
    """Save ``policy`` (new, or changed in memory) for ``actor``, who needs the add or change
    permission on policies; the audit event lists every changed field with its old and new
    value. Saving an unchanged policy records nothing."""
    adding = policy.pk is None
    perm = "governance.add_policy" if adding else "governance.change_policy"
    if not actor.has_perm(perm):
        raise Forbidden("Only administrators may edit policies.")
    before = (
        {}
        if adding
        else Policy.objects.select_for_update().filter(pk=policy.pk).values(*POLICY_FIELDS).get()
    )
    changes = {
        name: {"from": before.get(name), "to": getattr(policy, name)}
        for name in POLICY_FIELDS
        if adding or before[name] != getattr(policy, name)
    }
    policy.save()
    if changes:
        audit_event_append(
            actor=actor,
            action="policy.create" if adding else "policy.change",
            subject=policy,
            data={"risk_tier": policy.risk_tier, "changes": changes},
        )
    return policy
