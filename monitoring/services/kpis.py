"""Custom KPIs: thresholds with a direction, per deployment or per model, and their values."""

from __future__ import annotations

import math
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.choices import Verb
from accounts.models import User
from core.errors import Conflict, InvalidInput
from core.eventlog import audit_event_append
from monitoring.choices import CheckKind, CheckStatus, KpiDirection, KpiSource
from monitoring.models import Deployment, Kpi, KpiValue
from monitoring.permissions import require_logger, require_on
from monitoring.services.alerts.evaluation import alerts_evaluate_kpi
from registry.models import RegisteredModel

METRIC_KINDS = frozenset(
    {
        CheckKind.DRIFT,
        CheckKind.PREDICTION_DRIFT,
        CheckKind.PERFORMANCE,
        CheckKind.BIAS,
        CheckKind.HEALTH,
    }
)


def kpi_status(kpi: Kpi, value: float) -> str:
    """ok, warning or critical: past a threshold in the wrong direction."""
    worse = (
        (lambda v, t: v < t)
        if kpi.direction == KpiDirection.HIGHER_IS_BETTER
        else (lambda v, t: v > t)
    )
    if kpi.critical_threshold is not None and worse(value, kpi.critical_threshold):
        return CheckStatus.CRITICAL
    if kpi.warning_threshold is not None and worse(value, kpi.warning_threshold):
        return CheckStatus.WARNING
    return CheckStatus.OK


def _kpi_validate(kpi: Kpi) -> None:
    errors: dict[str, list[str]] = {}
    if not kpi.name.strip():
        errors["name"] = ["Give the KPI a name."]
    if kpi.direction not in KpiDirection.values:
        errors["direction"] = [f"One of: {', '.join(KpiDirection.values)}."]
    if kpi.source not in KpiSource.values:
        errors["source"] = [f"One of: {', '.join(KpiSource.values)}."]
    if kpi.source == KpiSource.CHECK_METRIC:
        kind, _, metric = kpi.metric.partition(".")
        if kind not in METRIC_KINDS or not metric:
            errors["metric"] = ["Write '<check kind>.<metric>', e.g. performance.auc."]
    for name in ("warning_threshold", "critical_threshold"):
        value = getattr(kpi, name)
        if value is not None and not math.isfinite(value):
            errors[name] = ["A finite number."]
    w, c = kpi.warning_threshold, kpi.critical_threshold
    if w is not None and c is not None and "direction" not in errors:
        in_order = c <= w if kpi.direction == KpiDirection.HIGHER_IS_BETTER else c >= w
        if not in_order:
            errors["critical_threshold"] = ["The critical threshold lies beyond the warning one."]
    if errors:
        raise InvalidInput("The KPI is not valid.", field_errors=errors)


@transaction.atomic
def kpi_create(
    *,
    actor: User,
    name: str,
    direction: str,
    deployment: Deployment | None = None,
    registered_model: RegisteredModel | None = None,
    source: str = KpiSource.REPORTED,
    metric: str = "",
    warning_threshold: float | None = None,
    critical_threshold: float | None = None,
    unit: str = "",
    description: str = "",
) -> Kpi:
    """Define a KPI for one deployment or for every deployment of a model (deploy verb)."""
    if (deployment is None) == (registered_model is None):
        raise InvalidInput(
            "A KPI belongs to one deployment or to one model.",
            field_errors={"deployment": ["Give a deployment or a model, not both."]},
        )
    require_on(actor, Verb.DEPLOY, deployment or registered_model)
    kpi = Kpi(
        name=(name or "").strip(),
        direction=direction,
        deployment=deployment,
        registered_model=registered_model,
        source=source,
        metric=(metric or "").strip(),
        warning_threshold=warning_threshold,
        critical_threshold=critical_threshold,
        unit=unit,
        description=description,
        created_by=actor,
    )
    _kpi_validate(kpi)
    kpi.save()
    model = registered_model or deployment.model_version.registered_model
    audit_event_append(
        actor=actor,
        action="kpi.create",
        subject=kpi,
        scope_model=model.name,
        data={
            "name": kpi.name,
            "direction": direction,
            "warning": warning_threshold,
            "critical": critical_threshold,
            "source": source,
            "metric": kpi.metric,
        },
    )
    return kpi


def kpi_applies_to(kpi: Kpi, deployment: Deployment) -> bool:
    if kpi.deployment_id is not None:
        return kpi.deployment_id == deployment.pk
    return kpi.registered_model_id == deployment.model_version.registered_model_id


@transaction.atomic
def kpi_value_record(
    *,
    actor: User | None,
    kpi: Kpi,
    deployment: Deployment,
    value: float,
    measured_at: datetime | None = None,
) -> KpiValue:
    """Record one value of ``kpi`` for ``deployment`` and judge it, in the audit chain.
    ``actor`` None is the check service recording a check metric; a reported value is
    production evidence, logged by a serving gateway (the ``log`` verb)."""
    if actor is not None:
        require_logger(actor, deployment)
        if kpi.source != KpiSource.REPORTED:
            raise Conflict(f"KPI '{kpi.name}' is computed from checks; it takes no reports.")
    if not kpi_applies_to(kpi, deployment):
        raise InvalidInput(
            f"KPI '{kpi.name}' does not apply to deployment '{deployment.name}'.",
            field_errors={"kpi": ["Another deployment's or model's KPI."]},
        )
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput("A KPI value is a finite number.", field_errors={"value": ["Number."]})
    measured_at = measured_at or timezone.now()
    try:
        with transaction.atomic():
            kpi_value = KpiValue.objects.create(
                kpi=kpi,
                deployment=deployment,
                value=float(value),
                measured_at=measured_at,
                status=kpi_status(kpi, float(value)),
                recorded_by=actor,
            )
    except IntegrityError:
        existing = KpiValue.objects.get(kpi=kpi, deployment=deployment, measured_at=measured_at)
        if existing.value != float(value):
            raise Conflict(
                f"KPI '{kpi.name}' already has a different value at {measured_at.isoformat()}."
            ) from None
        return existing
    _kpi_value_audit(actor, kpi_value)
    alerts_evaluate_kpi(kpi_value)
    return kpi_value


def _kpi_value_audit(actor: User | None, kpi_value: KpiValue) -> None:
    deployment = kpi_value.deployment
    version = deployment.model_version
    audit_event_append(
        actor=actor,
        action="kpi_value.record",
        subject=kpi_value,
        scope_model=version.registered_model.name,
        scope_version=version.natural_key,
        data={
            "kpi": kpi_value.kpi.name,
            "kpi_id": kpi_value.kpi_id,
            "deployment": deployment.name,
            "value": kpi_value.value,
            "measured_at": kpi_value.measured_at.isoformat(),
            "status": kpi_value.status,
            "source": kpi_value.kpi.source,
        },
    )
