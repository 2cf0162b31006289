"""Permission-scoped reads of monitoring: every list starts from what the user may view."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.access import team_scope
from accounts.choices import Verb
from accounts.models import User
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
from registry.models import ModelVersion


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
