"""Reclassification: a change of a model's risk tier or owning team while any of its versions is
under review or in production.

Such a change decides what those versions must show (the policy of the tier) and who reviews
them (the team's roles), so it is not an edit: it is an administrator's decision with a written
motivation, one decision row per affected version, in the audit chain. Each version keeps the
strictest policy it was ever under (``governance.policy_effective``), so a lower tier never
relaxes a version already submitted; a stricter tier that the version does not meet re-opens
its validation (validated or approved -> in validation; production -> flagged, where the
missing sign-offs are gathered before a manager clears the flag). A plain edit of tier or team
while no version is in those states stays a plain (audited) edit in the registry.
"""

from __future__ import annotations

from collections.abc import Collection

from django.db import transaction

from accounts.access import may, require, team_scope
from accounts.choices import Verb
from accounts.models import Team, User
from core.errors import Conflict, Forbidden, InvalidInput
from governance import workflow
from governance.choices import Action
from governance.errors import NotPermittedToDecide
from governance.guards import guard_context, guards_evaluate
from governance.models import Decision
from governance.services.transitions import (
    decision_effects_apply,
    motivation_clean,
    server_request_id,
)
from registry.choices import RiskTier
from registry.models import ModelVersion, RegisteredModel
from registry.services import registered_model_classification_set


def versions_under_governance(model: RegisteredModel):
    """The model's versions under review or in production, whose policy a reclassification
    decides."""
    return model.versions.filter(status__in=workflow.GOVERNED_STATES)


def reclassification_gate(actor: User, model: RegisteredModel, changes: dict) -> None:
    """The registry's change gate: a plain edit may not change tier or team while a version is
    under review or in production."""
    governed = list(versions_under_governance(model).order_by("version"))
    if not governed:
        return
    names = ", ".join(f"v{v.version} ({v.get_status_display().lower()})" for v in governed)
    fields = " and ".join(name.replace("_", " ") for name in changes)
    raise Conflict(
        f"{model} has versions under review or in production ({names}): its {fields} can "
        "change only as a reclassification, an administrator's decision with a motivation "
        f"(POST /api/v1/models/{model.name}/reclassify/).",
        field_errors={name: ["Change it by reclassification."] for name in changes},
    )


@transaction.atomic
def model_reclassify(
    *,
    actor: User,
    model: RegisteredModel,
    motivation: str,
    risk_tier: str | None = None,
    owner_team: Team | None = None,
    token_scopes: Collection[str] | None = None,
) -> list[Decision]:
    """Change ``model``'s risk tier and/or owning team as ``actor`` (who needs the classify verb
    on the model, and on the new team), recording a decision on every version under review or
    in production. Returns those decisions (none when no version is governed)."""
    motivation = motivation_clean(motivation)
    model = (
        RegisteredModel.objects.select_for_update().select_related("owner_team").get(pk=model.pk)
    )
    require(actor, Verb.VIEW, model)
    if not may(actor, Verb.CLASSIFY, model):
        raise NotPermittedToDecide(
            f"Reclassifying {model} is an administrator's decision; you may not take it."
        )
    if token_scopes is not None and Verb.CLASSIFY not in token_scopes:
        raise NotPermittedToDecide("This API token lacks the 'classify' scope needed here.")
    if risk_tier is not None and risk_tier not in RiskTier.values:
        raise InvalidInput(
            f"Unknown risk tier '{risk_tier}'.",
            field_errors={"risk_tier": [f"Choose from {', '.join(RiskTier.values)}."]},
        )
    if risk_tier == model.risk_tier:
        risk_tier = None
    if owner_team is not None and owner_team.pk == model.owner_team_id:
        owner_team = None
    if risk_tier is None and owner_team is None:
        raise InvalidInput(
            "Say what changes: a new risk tier or owning team.",
            field_errors={"risk_tier": ["Nothing to change."]},
        )
    if owner_team is not None:
        scope = team_scope(actor, Verb.CLASSIFY)
        if not (scope.everywhere or owner_team.pk in scope.team_ids):
            raise Forbidden(f"You may not move models into team '{owner_team.slug}'.")
    versions = list(
        ModelVersion.objects.select_for_update()
        .filter(registered_model=model, status__in=workflow.GOVERNED_STATES)
        .order_by("version")
    )
    before = registered_model_classification_set(
        actor=actor, model=model, risk_tier=risk_tier, owner_team=owner_team
    )
    change = {
        key: {"from": before[key], "to": value}
        for key, value in (
            ("risk_tier", risk_tier),
            ("owner_team", owner_team.slug if owner_team else None),
        )
        if value is not None
    }
    return [_version_reclassify(actor, v, model, motivation, change) for v in versions]


def _version_reclassify(
    actor: User, version: ModelVersion, model: RegisteredModel, motivation: str, change: dict
) -> Decision:
    """One version's decision: judged by the stricter policy from now on; re-opened when that
    policy is not met."""
    version.registered_model = model
    step = workflow.transition_for(version.status, Action.RECLASSIFY)
    ctx = guard_context(version, None)
    checks = workflow.reclassify_checks(version.status)
    unmet = [g for g in guards_evaluate(checks, ctx) if not g.passed]
    target = step.reopen_to if (step.reopen_to and unmet) else version.status
    reasons = "; ".join(f"{g.label}: {g.reason}" for g in unmet)
    decision = Decision.objects.create(
        version=version,
        action=Action.RECLASSIFY,
        from_state=version.status,
        to_state=target,
        actor=actor,
        motivation=motivation
        + (f"\n\nThe stricter policy is not met ({reasons})." if unmet and step.reopen_to else ""),
        request_id=server_request_id(),
        round=ctx.current_round,
        policy={**ctx.policy.snapshot(), "reclassified": change},
    )
    if target != version.status:
        version.status = target
        version.save(update_fields=["status", "updated_at"])
    decision_effects_apply(decision)
    return decision
