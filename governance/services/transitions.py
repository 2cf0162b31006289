"""The one service that changes a model version's state."""

from __future__ import annotations

from collections.abc import Collection

from auditlog.cid import get_cid
from django.db import transaction

from accounts.access import may, require
from accounts.choices import Verb
from accounts.models import User
from accounts.services.system import system_user_monitor
from core.errors import InvalidInput
from core.eventlog import audit_event_append
from governance import workflow
from governance.choices import Action
from governance.constants import MIN_MOTIVATION_LENGTH
from governance.errors import GuardsFailed, IllegalTransition, NotPermittedToDecide
from governance.guards import PERSONAL_GUARDS, advance_passes, guard_context, guards_evaluate
from governance.models import Decision
from governance.notifications import decision_recorded
from governance.services.documents import documents_after_decision
from registry.models import ModelVersion


def motivation_clean(motivation: str | None) -> str:
    text = (motivation or "").strip()
    if len(text) < MIN_MOTIVATION_LENGTH:
        raise InvalidInput(
            "Every decision needs a written motivation "
            f"(at least {MIN_MOTIVATION_LENGTH} characters).",
            field_errors={"motivation": ["Say why you decide this."]},
        )
    return text


@transaction.atomic
def version_transition(
    *,
    actor: User,
    version: ModelVersion,
    action: str,
    motivation: str,
    token_scopes: Collection[str] | None = None,
) -> Decision:
    """Take ``action`` on ``version`` as ``actor``, with a written ``motivation``.

    In one transaction: lock the version row, check that the actor may see it (404) and take
    the action (403), that the action leaves the current state (409) and that the policy's
    guards pass (409, or 403 for separation of duties), then record the decision, change the
    state and append to the audit trail. Anything refused changes nothing.

    ``token_scopes`` are those of the API token the request came with (None without one): the
    token must carry the scope of the transition taken from the state found under the lock."""
    motivation = motivation_clean(motivation)
    if action not in Action.values:
        raise InvalidInput(f"Unknown action '{action}'.", field_errors={"action": ["Unknown."]})
    if action == Action.RECLASSIFY:
        raise InvalidInput(
            "A reclassification changes the model's risk tier or team: "
            "POST /api/v1/models/{name}/reclassify/ with the change and a motivation.",
            field_errors={"action": ["Not a transition of its own."]},
        )
    version = (
        ModelVersion.objects.select_for_update()
        .select_related("registered_model", "registered_by")
        .get(pk=version.pk)
    )
    require(actor, Verb.VIEW, version)
    step = workflow.transition_for(version.status, action)
    if step is None:
        allowed = ", ".join(t.action for t in workflow.actions_from(version.status)) or "none"
        raise IllegalTransition(
            f"A version in state '{version.status}' cannot take '{action}'. "
            f"Actions from here: {allowed}."
        )
    if not may(actor, step.verb, version):
        raise NotPermittedToDecide(f"You may not {action.replace('_', ' ')} {version}.")
    if token_scopes is not None and step.scope not in token_scopes:
        raise NotPermittedToDecide(
            f"This API token lacks the '{step.scope}' scope needed to {action.replace('_', ' ')} "
            f"a version in state '{version.status}'."
        )
    ctx = guard_context(version, actor)
    failed = [g for g in guards_evaluate(step.guards, ctx) if not g.passed]
    personal = [g for g in failed if g.name in PERSONAL_GUARDS]
    if personal:
        raise NotPermittedToDecide("; ".join(g.reason for g in personal), guards=personal)
    if failed:
        raise GuardsFailed(
            f"{action.replace('_', ' ').capitalize()} is blocked: "
            + "; ".join(f"{g.label}: {g.reason}" for g in failed),
            guards=failed,
        )
    target = step.target if advance_passes(step, ctx) else version.status
    decision = Decision.objects.create(
        version=version,
        action=action,
        from_state=version.status,
        to_state=target,
        actor=actor,
        motivation=motivation,
        request_id=server_request_id(),
        round=ctx.current_round + (1 if action == Action.SUBMIT else 0),
        policy=ctx.policy.snapshot(),
    )
    if target != version.status:
        version.status = target
        version.save(update_fields=["status", "updated_at"])
    decision_effects_apply(decision)
    return decision


@transaction.atomic
def version_flag_by_monitoring(*, version: ModelVersion, motivation: str) -> Decision | None:
    """Monitoring's own move of a version in production to 'flagged' after a critical alert.

    No person decides, so no role is checked; the decision is signed by the monitoring system
    account, carries the alert's reason as its motivation and, like every decision, lands in the
    audit trail and notifies whoever can act next. A version not in production is left alone
    (None): it is already flagged, or not live."""
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    step = workflow.transition_for(version.status, Action.FLAG)
    if step is None:
        return None
    ctx = guard_context(version, None)
    decision = Decision.objects.create(
        version=version,
        action=Action.FLAG,
        from_state=version.status,
        to_state=step.target,
        actor=system_user_monitor(),
        motivation=motivation_clean(motivation),
        round=ctx.current_round,
        request_id=server_request_id(),
        policy=ctx.policy.snapshot(),
    )
    version.status = step.target
    version.save(update_fields=["status", "updated_at"])
    decision_effects_apply(decision)
    return decision


def server_request_id() -> str:
    """The id of the request being served, generated by the server (never a client header)."""
    return (get_cid() or "")[:64]


def decision_effects_apply(decision: Decision) -> None:
    """Side effects that belong to every decision: the audit chain, the protected aliases of a
    version that stops being servable, notifications, and the regeneration of the version's
    documents so that a review always reads current ones."""
    # governance.services.aliases imports this module at its top: a cycle.
    from governance.services.aliases import aliases_clear_after_decision

    version = decision.version
    audit_event_append(
        actor=decision.actor,
        action=f"version.{decision.action}",
        subject=version,
        scope_model=version.registered_model.name,
        scope_version=version.natural_key,
        data={
            "decision": decision.pk,
            "from": decision.from_state,
            "to": decision.to_state,
            "round": decision.round,
            "motivation": decision.motivation,
        },
    )
    # A version that leaves approved / production no longer answers to champion & co.
    aliases_clear_after_decision(decision)
    decision_recorded(decision)
    documents_after_decision(decision)
