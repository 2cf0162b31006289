"""factory_boy factories for monitoring.

Deployments, channels and rules are built through their services, like the registry's
factories. A deployment serves production traffic only from a version the workflow approved;
walking a version through submission, validation and approval is governance's test subject, so
here a version is put straight into a state (``ProductionVersionFactory``,
``version_status_set``): test set-up only, never application code.

Check results, KPIs and KPI values are stored rows, as the check and KPI services would store
them, without evaluating alert rules: a test calls ``alerts_evaluate_check`` /
``alerts_evaluate_kpi`` itself when that is what it is about.
"""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from governance.models import Decision
from monitoring.choices import (
    ChannelKind,
    CheckKind,
    CheckStatus,
    CheckTrigger,
    DeploymentMode,
    Environment,
    KpiDirection,
    KpiSource,
)
from monitoring.models import (
    AlertChannel,
    AlertRule,
    CheckResult,
    Deployment,
    Kpi,
    KpiValue,
)
from monitoring.services.alerts import alert_channel_create, alert_rule_create
from monitoring.services.deployments import deployment_create
from registry.choices import VersionStatus
from registry.models import ModelVersion
from tests.factories import ModelVersionFactory, ServiceFactory, TeamFactory, UserFactory

# Check windows of successive results: one hour apart, ending before now.
_WINDOW_BASE = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(days=365)


def version_status_set(version: ModelVersion, status: str) -> ModelVersion:
    """Put ``version`` in ``status`` without the workflow. Test set-up only."""
    ModelVersion.objects.filter(pk=version.pk).update(status=status)
    version.refresh_from_db()
    return version


def validation_record_make(version: ModelVersion, *, validated_at=None, promoted=True) -> None:
    """Write the decisions the workflow would have left on a version that reached approval
    (and production, if ``promoted``): a submission by its registrant, the sign-offs its policy
    needs from independent validators, an approval. Rows only, test set-up only: a production
    deployment asks for them (sign-offs complete, validation current)."""
    from governance.choices import Action
    from governance.guards import policy_for

    S = VersionStatus
    needed = policy_for(version).required_sign_offs
    validated_at = validated_at or timezone.now()
    steps = [(Action.SUBMIT, S.DRAFT, S.SUBMITTED, version.registered_by)]
    steps += [(Action.CLAIM, S.SUBMITTED, S.IN_VALIDATION, None)]
    for i in range(needed):
        reached = S.VALIDATED if i == needed - 1 else S.IN_VALIDATION
        steps += [(Action.SIGN_OFF, S.IN_VALIDATION, reached, None)]
    steps += [(Action.APPROVE, S.VALIDATED, S.APPROVED, None)]
    if promoted:
        steps += [(Action.PROMOTE, S.APPROVED, S.PRODUCTION, None)]
    for action, source, target, actor in steps:
        decision = Decision.objects.create(
            version=version,
            action=action,
            from_state=source,
            to_state=target,
            actor=actor or UserFactory(),
            motivation="Test set-up: the workflow's record.",
            round=1,
        )
        Decision.objects.filter(pk=decision.pk).update(created_at=validated_at)


class ProductionVersionFactory(ModelVersionFactory):
    """A registered version already in production, with the record of its validation,
    approval and promotion (``validation_record_make``)."""

    status = VersionStatus.PRODUCTION

    @classmethod
    def _create(cls, model_class, status, **kwargs):
        version = version_status_set(super()._create(model_class, **kwargs), status)
        validation_record_make(version, promoted=status != VersionStatus.APPROVED)
        return version


class ApprovedVersionFactory(ProductionVersionFactory):
    """A version approved for production but not promoted yet. A production deployment that
    serves traffic (live or canary) promotes it; shadow and warm-up do not."""

    status = VersionStatus.APPROVED


class DeploymentFactory(ServiceFactory):
    """A live production deployment of a version in production, by default."""

    class Meta:
        model = Deployment

    model_version = factory.SubFactory(ProductionVersionFactory)
    name = factory.Sequence(lambda n: f"deployment-{n}")
    environment = Environment.PRODUCTION
    mode = DeploymentMode.LIVE

    @classmethod
    def _create(cls, model_class, model_version, **kwargs):
        return deployment_create(version=model_version, **kwargs)


class CheckResultFactory(factory.django.DjangoModelFactory):
    """One stored check result; successive ones get successive one-hour windows."""

    class Meta:
        model = CheckResult

    deployment = factory.SubFactory(DeploymentFactory)
    kind = CheckKind.DRIFT
    status = CheckStatus.OK
    window_end = factory.Sequence(lambda n: _WINDOW_BASE + timedelta(hours=n))
    window_start = factory.LazyAttribute(lambda r: r.window_end - timedelta(hours=1))
    row_count = 500
    score = None
    summary = factory.LazyAttribute(lambda r: f"{r.kind} is {r.status}")
    trigger = CheckTrigger.SCHEDULE


class KpiFactory(factory.django.DjangoModelFactory):
    """A reported KPI of one deployment (pass ``deployment=None, registered_model=...`` for
    a model-wide one)."""

    class Meta:
        model = Kpi

    name = factory.Sequence(lambda n: f"kpi-{n}")
    deployment = factory.SubFactory(DeploymentFactory)
    registered_model = None
    source = KpiSource.REPORTED
    direction = KpiDirection.LOWER_IS_BETTER
    warning_threshold = 0.1
    critical_threshold = 0.2
    created_by = factory.SubFactory(UserFactory)


class KpiValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KpiValue

    kpi = factory.SubFactory(KpiFactory)
    deployment = factory.LazyAttribute(lambda v: v.kpi.deployment)
    value = 0.05
    measured_at = factory.Sequence(lambda n: _WINDOW_BASE + timedelta(hours=n))
    status = CheckStatus.OK


class AlertChannelFactory(ServiceFactory):
    """An e-mail channel of the team under test, by default."""

    class Meta:
        model = AlertChannel

    owner_team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"channel-{n}")
    kind = ChannelKind.EMAIL
    target = "oncall@example.org"

    @classmethod
    def _create(cls, model_class, **kwargs):
        return alert_channel_create(**kwargs)


class AlertRuleFactory(ServiceFactory):
    """A rule on one deployment's drift checks, critical results only, by default."""

    class Meta:
        model = AlertRule

    name = factory.Sequence(lambda n: f"rule-{n}")
    deployment = factory.SubFactory(DeploymentFactory)
    check_kind = CheckKind.DRIFT

    @classmethod
    def _create(cls, model_class, **kwargs):
        return alert_rule_create(**kwargs)
