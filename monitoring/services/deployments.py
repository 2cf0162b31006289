"""Placing a version in an environment, replacing it, retiring it."""

from __future__ import annotations

from django.core.validators import validate_slug
from django.db import transaction
from django.utils import timezone

from accounts.access import require
from accounts.choices import Verb
from accounts.models import User
from core.errors import Conflict, InvalidInput
from core.eventlog import audit_event_append
from governance.services.documents import documents_refresh
from monitoring.choices import AlertState, DeploymentMode, DeploymentStatus, Environment
from monitoring.models import Deployment
from monitoring.permissions import require_on
from monitoring.services.alerts.lifecycle import alert_resolve
from registry.choices import LineageRelation
from registry.choices import VersionStatus as S
from registry.models import ModelVersion
from registry.services.lineage import lineage_edge_add

# The workflow's gate: what a version must have reached to serve real traffic in production
# (live, canary) or to see it without answering (warm-up, shadow).
SERVING_STATES = frozenset({S.APPROVED, S.PRODUCTION})
WATCHING_STATES = frozenset({S.VALIDATED, S.APPROVED, S.PRODUCTION})
NEVER_DEPLOYED = frozenset({S.REJECTED, S.ARCHIVED, S.DEPRECATED})


def _traffic_for(mode: str, traffic_percent: int | None) -> int:
    if mode in (DeploymentMode.WARM_UP, DeploymentMode.SHADOW):
        if traffic_percent not in (None, 0):
            raise InvalidInput(
                "Warm-up and shadow deployments answer no traffic.",
                field_errors={"traffic_percent": ["Leave empty or 0."]},
            )
        return 0
    if mode == DeploymentMode.LIVE:
        if traffic_percent not in (None, 100):
            raise InvalidInput(
                "A live deployment answers all its traffic; use a canary for a share.",
                field_errors={"traffic_percent": ["Leave empty or 100."]},
            )
        return 100
    if traffic_percent is None or not 1 <= traffic_percent <= 99:
        raise InvalidInput(
            "A canary answers a share of the traffic between 1 and 99 percent.",
            field_errors={"traffic_percent": ["Give a whole number from 1 to 99."]},
        )
    return traffic_percent


# Modes that answer real requests. In production, any share of traffic (a 1 % canary as much
# as a live deployment) is serving: it is the workflow's promote decision for an approved
# version, and a version already in production serves only while its validation holds.
SERVING_MODES = frozenset({DeploymentMode.LIVE, DeploymentMode.CANARY})


def serves_production(*, environment: str, mode: str) -> bool:
    return environment == Environment.PRODUCTION and mode in SERVING_MODES


def deployment_gate_check(
    version: ModelVersion, *, environment: str, mode: str, actor: User | None = None
) -> None:
    """Refuse (409) a deployment the governance workflow does not allow: only an approved
    version (or one in production, not flagged) serves production traffic, and only while the
    policy's sign-offs are complete and its validation is current; warm-up and shadow need at
    least a validated one."""
    status = version.status
    if status in NEVER_DEPLOYED:
        raise Conflict(f"{version} is {version.get_status_display().lower()}: it is not deployed.")
    if environment != Environment.PRODUCTION:
        return
    serving = mode in SERVING_MODES
    allowed = SERVING_STATES if serving else WATCHING_STATES
    if status not in allowed:
        need = "approved" if serving else "at least validated"
        raise Conflict(
            f"Only a version that is {need} can be deployed to production as "
            f"{DeploymentMode(mode).label.lower()}; {version} is "
            f"'{version.get_status_display().lower()}'."
        )
    if serving:
        _serving_guards_check(version, actor, mode)


def _serving_guards_check(version: ModelVersion, actor: User | None, mode: str) -> None:
    """The promote decision's checks, asked of every production deployment that serves
    traffic, also of a version already in production: the sign-offs of the policy it is
    judged by, and a validation that is not overdue. Governance's guards answer."""
    from governance import workflow
    from governance.errors import GuardsFailed
    from governance.guards import guard_context, guards_evaluate

    names = [workflow.ENOUGH_SIGN_OFFS, workflow.VALIDATION_CURRENT]
    failed = [g for g in guards_evaluate(names, guard_context(version, actor)) if not g.passed]
    if failed:
        raise GuardsFailed(
            f"{version} may not serve production traffic as "
            f"{DeploymentMode(mode).label.lower()}: "
            + "; ".join(f"{g.label}: {g.reason}" for g in failed),
            guards=failed,
        )


def _choice(value: str, choices, field: str) -> str:
    if value not in choices.values:
        raise InvalidInput(
            f"Unknown {field.replace('_', ' ')} '{value}'.",
            field_errors={field: [f"One of: {', '.join(choices.values)}."]},
        )
    return value


@transaction.atomic
def deployment_create(
    *,
    actor: User,
    version: ModelVersion,
    name: str,
    environment: str,
    mode: str,
    traffic_percent: int | None = None,
    endpoint_url: str = "",
    description: str = "",
    replaces: Deployment | None = None,
    check_window_hours: int = 24,
) -> Deployment:
    """Deploy ``version`` as ``name``. Needs the deploy verb on its model. In production the
    workflow's gate applies; a production deployment that serves traffic (live or canary, at
    any share) of an approved version also puts the version in production (the promote
    decision, with this deployment as its motivation). ``replaces`` retires the deployment it
    takes over from, in the same transaction."""
    version = (
        ModelVersion.objects.select_for_update()
        .select_related("registered_model")
        .get(pk=version.pk)
    )
    require(actor, Verb.DEPLOY, version)
    _choice(environment, Environment, "environment")
    _choice(mode, DeploymentMode, "mode")
    try:
        validate_slug(name)
    except Exception:
        raise InvalidInput(
            "A deployment name is letters, digits, hyphens and underscores.",
            field_errors={"name": ["Use a slug, e.g. credit-scoring-prod."]},
        ) from None
    if Deployment.objects.filter(name=name).exists():
        raise Conflict(f"A deployment named '{name}' exists.", field_errors={"name": ["Taken."]})
    if not 1 <= int(check_window_hours) <= 24 * 90:
        raise InvalidInput(
            "The check window is 1 hour to 90 days.",
            field_errors={"check_window_hours": ["Between 1 and 2160."]},
        )
    traffic = _traffic_for(mode, traffic_percent)
    deployment_gate_check(version, environment=environment, mode=mode, actor=actor)
    if replaces is not None:
        replaces = _replaced(actor, replaces, version, environment)
    deployment = Deployment.objects.create(
        name=name,
        model_version=version,
        environment=environment,
        mode=mode,
        traffic_percent=traffic,
        endpoint_url=endpoint_url.strip(),
        description=description.strip(),
        deployed_by=actor,
        replaces=replaces,
        check_window_hours=check_window_hours,
    )
    if replaces is not None:
        _retire(actor, replaces, f"Replaced by {deployment.name}.")
    lineage_edge_add(source=version, target=deployment, relation=LineageRelation.DEPLOYED_AS)
    _audit(actor, "deployment.create", deployment)
    if not _promote_if_serving(actor, deployment):
        documents_refresh(version=version, by=actor)  # a promotion's decision refreshes them
    return deployment


def _replaced(actor: User, old: Deployment, version: ModelVersion, environment: str) -> Deployment:
    old = Deployment.objects.select_for_update().get(pk=old.pk)
    require_on(actor, Verb.DEPLOY, old)
    if not old.is_active:
        raise Conflict(f"Deployment '{old.name}' is already retired.")
    if old.model_version.registered_model_id != version.registered_model_id:
        raise InvalidInput(
            "A deployment is replaced only by a version of the same model.",
            field_errors={"replaces": ["Another model's deployment."]},
        )
    if old.environment != environment:
        raise InvalidInput(
            "A deployment is replaced only in its own environment.",
            field_errors={"replaces": [f"It is in {old.environment}."]},
        )
    return old


def _promote_if_serving(actor: User, deployment: Deployment) -> bool:
    """Serving production traffic (live, or a canary's share) is the workflow's 'promote' of
    an approved version. Whether it promoted."""
    from governance.choices import Action
    from governance.services.transitions import version_transition

    version = deployment.model_version
    serving = serves_production(environment=deployment.environment, mode=deployment.mode)
    if serving and version.status == S.APPROVED:
        how = (
            "live"
            if deployment.mode == DeploymentMode.LIVE
            else f"as a canary on {deployment.traffic_percent} % of the traffic"
        )
        version_transition(
            actor=actor,
            version=version,
            action=Action.PROMOTE,
            motivation=deployment.description
            or f"Deployed {how} in production as '{deployment.name}'.",
        )
        return True
    return False


@transaction.atomic
def deployment_retire(*, actor: User, deployment: Deployment, reason: str) -> Deployment:
    """Retire ``deployment``: it stops being checked and takes no more predictions. The reason
    is required and kept."""
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    require_on(actor, Verb.DEPLOY, deployment)
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise InvalidInput(
            "Say why the deployment is retired (at least 10 characters).",
            field_errors={"reason": ["Give the reason."]},
        )
    if not deployment.is_active:
        raise Conflict(f"Deployment '{deployment.name}' is already retired.")
    _retire(actor, deployment, reason)
    return deployment


def _retire(actor: User, deployment: Deployment, reason: str) -> None:
    deployment.status = DeploymentStatus.RETIRED
    deployment.retired_by = actor
    deployment.retired_at = timezone.now()
    deployment.retired_reason = reason
    deployment.save(
        update_fields=["status", "retired_by", "retired_at", "retired_reason", "updated_at"]
    )
    _audit(actor, "deployment.retire", deployment, reason=reason)
    _alerts_resolve(actor, deployment, reason)
    documents_refresh(version=deployment.model_version, by=actor)


def _alerts_resolve(actor: User, deployment: Deployment, reason: str) -> None:
    """A retired deployment is no longer watched: its open alerts are resolved, saying so."""
    for alert in deployment.alerts.exclude(state=AlertState.RESOLVED):
        alert_resolve(actor=actor, alert=alert, note=f"Deployment retired: {reason}")


def _audit(actor: User, action: str, deployment: Deployment, **extra) -> None:
    version = deployment.model_version
    audit_event_append(
        actor=actor,
        action=action,
        subject=deployment,
        scope_model=version.registered_model.name,
        scope_version=version.natural_key,
        data={
            "deployment": deployment.name,
            "environment": deployment.environment,
            "mode": deployment.mode,
            "traffic_percent": deployment.traffic_percent,
            "replaces": deployment.replaces.name if deployment.replaces_id else None,
            **extra,
        },
    )
