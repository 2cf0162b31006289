"""Permission-scoped reads of monitoring, for the API and the pages alike: every list starts
from what the user may view (``Model.objects.restrict``), so what they may not see is neither
listed nor found (a 404, never a 403). On top of the lists: the dashboard's rows with their
latest health and drift, one deployment's series of checks and KPI values, a page of its
predictions, the prediction lookup with each version's decisions, and one alert with its
history."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models import Value as V
from django.db.models.functions import Coalesce

from accounts.access import team_scope
from accounts.choices import Verb
from accounts.models import User
from core.errors import InvalidInput, NotFound
from governance.models import Decision
from monitoring.choices import (
    AlertEventKind,
    AlertState,
    CheckKind,
    DeploymentStatus,
    Environment,
    Severity,
)
from monitoring.filters import DeploymentFilter
from monitoring.models import (
    Alert,
    AlertChannel,
    AlertRule,
    BaselineProfile,
    CheckResult,
    Deployment,
    Kpi,
    KpiValue,
    Prediction,
)
from monitoring.services.deployments import serves_production
from registry.choices import VersionStatus
from registry.models import ModelVersion

UNRESOLVED = (AlertState.OPEN, AlertState.ACKNOWLEDGED)
DASHBOARD_ALERTS = 50
SERIES_POINTS = 60
KPIS_SHOWN = 6
REQUEST_ID_LENGTH = 128  # Prediction.request_id
MAX_PREDICTION_PAGE = 10_000
MAX_ID = 2**63 - 1  # a larger id from the URL is no row, and PostgreSQL refuses to compare it
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


# --- The lists: what the user may see ------------------------------------------------------


def deployment_list(user: User) -> QuerySet:
    qs = Deployment.objects.select_related(
        "model_version__registered_model", "deployed_by", "retired_by", "replaces"
    )
    return qs.restrict(user)


def prediction_list(user: User, deployment: Deployment | None = None) -> QuerySet:
    qs = Prediction.objects.select_related("deployment")
    if deployment is not None:
        qs = qs.filter(deployment=deployment)
    return qs.restrict(user)


def predictions_by_request_id(user: User, request_id: str) -> QuerySet:
    """Every visible prediction logged under ``request_id`` (a live and a shadow deployment
    may both have answered it), with its deployment and version."""
    return (
        prediction_list(user)
        .filter(request_id=request_id)
        .select_related("deployment__model_version__registered_model")
    )


def check_result_list(user: User, deployment: Deployment | None = None) -> QuerySet:
    qs = CheckResult.objects.select_related("deployment", "requested_by")
    if deployment is not None:
        qs = qs.filter(deployment=deployment)
    return qs.restrict(user)


def baseline_list(user: User, version: ModelVersion) -> QuerySet:
    qs = BaselineProfile.objects.filter(model_version=version).select_related(
        "model_version__registered_model", "dataset_version__dataset", "created_by"
    )
    return qs.restrict(user)


def alert_list(user: User) -> QuerySet:
    qs = Alert.objects.select_related(
        "rule", "deployment__model_version__registered_model", "acknowledged_by", "resolved_by"
    )
    return qs.restrict(user)


def alert_rule_list(user: User) -> QuerySet:
    qs = AlertRule.objects.select_related(
        "deployment__model_version__registered_model", "registered_model", "kpi"
    ).prefetch_related("channels")
    return qs.restrict(user)


def alert_channel_list(user: User) -> QuerySet:
    """Channels of the teams whose things the user may see."""
    qs = AlertChannel.objects.select_related("owner_team")
    scope = team_scope(user, Verb.VIEW)
    return qs if scope.everywhere else qs.filter(owner_team__in=scope.team_ids)


def kpi_list(user: User) -> QuerySet:
    qs = Kpi.objects.select_related(
        "deployment__model_version__registered_model", "registered_model"
    )
    return qs.restrict(user)


def kpi_value_list(user: User, kpi: Kpi) -> QuerySet:
    return KpiValue.objects.filter(kpi=kpi).select_related("deployment").restrict(user)


# --- The dashboard --------------------------------------------------------------------------


def _latest_check(kind: str) -> Subquery:
    return Subquery(
        CheckResult.objects.filter(deployment=OuterRef("pk"), kind=kind)
        .order_by("-window_end", "-id")
        .values("pk")[:1]
    )


def _with_monitoring_summary(deployments: QuerySet[Deployment]) -> QuerySet[Deployment]:
    """Each deployment with the ids of its latest health and drift results, the time of its
    last check and its count of unresolved alerts, as subqueries: one query for any number of
    deployments."""
    open_alerts = (
        Alert.objects.filter(deployment=OuterRef("pk"), state__in=UNRESOLVED)
        .order_by()
        .values("deployment")
        .annotate(n=Count("pk"))
        .values("n")
    )
    last_check = CheckResult.objects.filter(deployment=OuterRef("pk")).order_by("-created_at")
    return deployments.select_related("model_version__registered_model__owner_team").annotate(
        latest_health_id=_latest_check(CheckKind.HEALTH),
        latest_drift_id=_latest_check(CheckKind.DRIFT),
        last_checked_at=Subquery(last_check.values("created_at")[:1]),
        open_alert_count=Coalesce(Subquery(open_alerts, output_field=IntegerField()), V(0)),
    )


def deployment_dashboard(filters: DeploymentFilter) -> QuerySet[Deployment]:
    """The deployments ``filters`` kept (bound to the deployments the user may see): active
    before retired, production before staging before development, then by name."""
    environments = [Environment.PRODUCTION, Environment.STAGING, Environment.DEVELOPMENT]
    return _with_monitoring_summary(filters.qs).order_by(
        _first_when(status=DeploymentStatus.ACTIVE), _rank("environment", environments), "name"
    )


def _first_when(**condition) -> Case:
    """0 for the rows that meet ``condition``, 1 for the others: ordering puts them first."""
    return Case(When(**condition, then=V(0)), default=V(1), output_field=IntegerField())


def _rank(field: str, values: list[str]) -> Case:
    """The position of the row's ``field`` in ``values``: ordering follows that list."""
    whens = [When(**{field: value}, then=V(rank)) for rank, value in enumerate(values)]
    return Case(*whens, default=V(len(values)), output_field=IntegerField())


@dataclass(frozen=True)
class DeploymentRow:
    """A deployment as a list shows it, with its latest health and drift results."""

    deployment: Deployment
    health: CheckResult | None
    drift: CheckResult | None

    @property
    def health_reasons(self) -> list[str]:
        """Why the health score is what it is: first, when a failing check capped the score,
        the cap (``monitoring.stats.health``), then every check that is not ok, worst first."""
        return health_reasons(self.health)


def health_reasons(health: CheckResult | None) -> list[str]:
    """The reasons a health result recorded, its cap first (older results have none)."""
    details = (health.details or {}) if health is not None else {}
    if not isinstance(details, dict):
        return []
    reasons = details.get("reasons")
    reasons = [str(r) for r in reasons] if isinstance(reasons, list) else []
    cap = details.get("cap_reason")
    return [str(cap), *reasons] if cap else reasons


def deployment_rows(deployments: list[Deployment]) -> list[DeploymentRow]:
    """Rows for deployments annotated by ``_with_monitoring_summary``: their latest results
    read in one query."""
    ids = {d.latest_health_id for d in deployments} | {d.latest_drift_id for d in deployments}
    results = CheckResult.objects.in_bulk([pk for pk in ids if pk is not None])
    return [
        DeploymentRow(d, results.get(d.latest_health_id), results.get(d.latest_drift_id))
        for d in deployments
    ]


def unresolved_alerts(user: User) -> QuerySet[Alert]:
    """Open and acknowledged alerts the user may see: open first, most severe first, newest
    first."""
    severities = Severity.values[::-1]  # most severe first
    return (
        alert_list(user)
        .filter(state__in=UNRESOLVED)
        .order_by(
            _first_when(state=AlertState.OPEN),
            _rank("severity", severities),
            "-last_seen_at",
            "-id",
        )
    )


def version_deployments(user: User, version: ModelVersion) -> list[DeploymentRow]:
    """The deployments of one version, active first, newest first, for the version page."""
    deployments = deployment_list(user).filter(model_version=version)
    deployments = _with_monitoring_summary(deployments).order_by(
        _first_when(status=DeploymentStatus.ACTIVE), "-deployed_at"
    )
    return deployment_rows(list(deployments))


# --- One deployment -------------------------------------------------------------------------


def deployment_get(user: User, name: str) -> Deployment:
    found = (
        deployment_list(user)
        .select_related("model_version__registered_model__owner_team", "legal_hold_by")
        .filter(name=name)
        .first()
    )
    if found is None:
        raise NotFound(f"There is no deployment named '{name}'.")
    return found


def deployment_successors(user: User, deployment: Deployment) -> list[Deployment]:
    """The deployments that replaced this one."""
    return list(deployment_list(user).filter(replaces=deployment).order_by("deployed_at"))


def check_series(
    deployment: Deployment, kind: str, limit: int = SERIES_POINTS
) -> list[CheckResult]:
    """The newest ``limit`` results of one kind, newest first."""
    return list(
        CheckResult.objects.filter(deployment=deployment, kind=kind)
        .select_related("requested_by")
        .order_by("-window_end", "-id")[:limit]
    )


def deployment_kpis(deployment: Deployment) -> list[tuple[Kpi, list[KpiValue]]]:
    """The KPIs that apply to the deployment (its own and its model's), each with its newest
    values for this deployment."""
    kpis = Kpi.objects.filter(
        Q(deployment=deployment)
        | Q(registered_model_id=deployment.model_version.registered_model_id)
    ).order_by("name", "id")[:KPIS_SHOWN]
    return [
        (
            kpi,
            list(
                KpiValue.objects.filter(kpi=kpi, deployment=deployment).order_by("-measured_at")[
                    :SERIES_POINTS
                ]
            ),
        )
        for kpi in kpis
    ]


def health_alert_thresholds(deployment: Deployment) -> list[float]:
    """The scores below which an enabled rule of the deployment (or its model) alerts."""
    rules = AlertRule.objects.filter(
        Q(deployment=deployment)
        | Q(registered_model_id=deployment.model_version.registered_model_id),
        check_kind=CheckKind.HEALTH,
        enabled=True,
        health_below__isnull=False,
    )
    return sorted(set(rules.values_list("health_below", flat=True)))


def deployment_alerts(deployment: Deployment, resolved_shown: int = 10) -> list[Alert]:
    """The deployment's unresolved alerts, then its latest resolved ones."""
    alerts = Alert.objects.filter(deployment=deployment).select_related(
        "rule", "acknowledged_by", "resolved_by"
    )
    return [
        *alerts.filter(state__in=UNRESOLVED).order_by(
            _first_when(state=AlertState.OPEN), "-opened_at"
        ),
        *alerts.filter(state=AlertState.RESOLVED).order_by("-resolved_at")[:resolved_shown],
    ]


@dataclass(frozen=True)
class PredictionPage:
    """A page of a deployment's predictions, newest first. The prediction log is the largest
    table there is, so the page is found by offset without counting the rows."""

    number: int
    predictions: list[Prediction]
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def prediction_page(deployment: Deployment, page: str | None, size: int = 20) -> PredictionPage:
    """Page ``page`` (1 when it is not a page number; at most ``MAX_PREDICTION_PAGE``, so
    that the offset stays a number the database takes)."""
    try:
        number = min(max(1, int(page or 1)), MAX_PREDICTION_PAGE)
    except ValueError:
        number = 1
    start = (number - 1) * size
    rows = list(
        Prediction.objects.filter(deployment=deployment).order_by("-predicted_at", "-id")[
            start : start + size + 1
        ]
    )
    return PredictionPage(number, rows[:size], len(rows) > size)


# --- Prediction lookup and alerts -----------------------------------------------------------


def request_id_clean(value: str) -> str:
    """A request id from the query string; refused (400) when it cannot be one."""
    value = value.strip()
    if len(value) > REQUEST_ID_LENGTH:
        raise InvalidInput(
            f"A request id is at most {REQUEST_ID_LENGTH} characters.",
            field_errors={"request_id": [f"At most {REQUEST_ID_LENGTH} characters."]},
        )
    if _CONTROL_CHARACTERS.search(value):
        raise InvalidInput(
            "A request id has no control characters.",
            field_errors={"request_id": ["Control characters are not allowed."]},
        )
    return value


def prediction_lookup(user: User, request_id: str) -> list[Prediction]:
    """Every prediction the user may see logged under ``request_id``, with its deployment,
    its version and the version's decisions (who submitted, signed off, approved...)."""
    decisions = Decision.objects.select_related("actor").order_by("created_at", "id")
    return list(
        predictions_by_request_id(user, request_id)
        .select_related("deployment__model_version__registered_model__owner_team")
        .prefetch_related(Prefetch("deployment__model_version__decisions", queryset=decisions))
        .order_by("-deployment__traffic_percent", "deployment__name")
    )


def alert_get(user: User, pk: int) -> Alert:
    if pk > MAX_ID:
        raise NotFound(f"There is no alert {pk}.")
    found = (
        alert_list(user)
        .select_related("check_result", "kpi_value__kpi", "deployment__model_version")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound(f"There is no alert {pk}.")
    return found


def alert_deliveries(alert: Alert) -> QuerySet:
    return alert.deliveries.select_related("channel").order_by("created_at", "id")


@dataclass(frozen=True)
class AlertHistoryEntry:
    """One line of an alert's history: one event, or a run of recurrences in a row (``count``
    of them, from ``at`` to ``until``, with the latest one's detail)."""

    kind: str
    at: datetime
    by: User | None
    detail: str
    count: int = 1
    until: datetime | None = None

    @property
    def label(self) -> str:
        if self.kind == AlertEventKind.RECURRED and self.count > 1:
            return f"Recurred {self.count} times"
        return AlertEventKind(self.kind).label


def alert_history(alert: Alert) -> list[AlertHistoryEntry]:
    """The alert's events, oldest first, read from its ``AlertEvent`` rows; recurrences in a
    row are one entry, so the list stays short however long the alert stayed open."""
    entries: list[AlertHistoryEntry] = []
    for event in alert.events.select_related("by").order_by("at", "id"):
        previous = entries[-1] if entries else None
        if event.kind == AlertEventKind.RECURRED and previous and previous.kind == event.kind:
            entries[-1] = AlertHistoryEntry(
                kind=event.kind,
                at=previous.at,
                by=None,
                detail=event.detail,
                count=previous.count + 1,
                until=event.at,
            )
            continue
        entries.append(AlertHistoryEntry(event.kind, event.at, event.by, event.detail))
    return entries


# --- What serves a model (the model page) -----------------------------------------------------


@dataclass
class VersionServing:
    """One version of a model on the model page's serving panel: its active deployments, and
    whether it serves production traffic or was superseded by another version that does."""

    version: ModelVersion
    deployments: list[Deployment]
    serving: bool
    superseded_by: list[ModelVersion]

    @property
    def in_production_state(self) -> bool:
        return self.version.status in (VersionStatus.PRODUCTION, VersionStatus.FLAGGED)


def model_serving(user: User, model) -> list[VersionServing]:
    """Versions of ``model`` the user may see that have an active deployment or are in an
    approved / production state, newest first; which of them answers production traffic
    (live or canary in production), and which "production" versions no longer do because
    another version does. Two queries whatever the number of versions."""
    deployments = list(
        deployment_list(user)
        .filter(model_version__registered_model=model, status=DeploymentStatus.ACTIVE)
        .select_related("model_version")
        .order_by("-deployed_at", "name")
    )
    by_version: dict[int, list[Deployment]] = {}
    for d in deployments:
        by_version.setdefault(d.model_version_id, []).append(d)
    shown_states = (VersionStatus.APPROVED, VersionStatus.PRODUCTION, VersionStatus.FLAGGED)
    versions = (
        ModelVersion.objects.restrict(user)
        .filter(registered_model=model)
        .filter(Q(pk__in=list(by_version)) | Q(status__in=shown_states))
        .select_related("registered_model")
        .order_by("-version")
    )
    rows = []
    for version in versions:
        mine = by_version.get(version.pk, [])
        serving = any(serves_production(environment=d.environment, mode=d.mode) for d in mine)
        rows.append(VersionServing(version, mine, serving, []))
    servers = [row.version for row in rows if row.serving]
    for row in rows:
        if row.in_production_state and not row.serving:
            row.superseded_by = [v for v in servers if v.pk != row.version.pk]
    return rows
