"""The permission matrix: every API route and method, tried by every persona, with the status
each must get. Forbidden attempts must also leave the database exactly as it was, and append
nothing to the audit chain; every allowed write appends its expected events (``AUDIT_EVENTS``).

``test_every_api_route_is_in_the_matrix`` walks the URL configuration, so a new endpoint
cannot be added without saying here who may call it."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from accounts.choices import RoleName
from accounts.models import ApiToken, Role, RoleAssignment, Team, TeamMembership
from accounts.services import role_assign, team_add_member, token_create
from governance.models import Annotation, Decision, FreeTextSection, GeneratedDocument
from integrations.models import OpenLineageDataset, OpenLineageEvent, OpenLineageRun
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
from registry import services as registry_services
from registry.models import (
    Artifact,
    Dataset,
    DatasetVersion,
    ModelRoleAssignment,
    ModelVersion,
    RegisteredModel,
    Run,
)
from tests.access.matrix_mlflow import (
    MLFLOW_AUDIT_EVENTS,
    MLFLOW_MATRIX,
    MLFLOW_READS_BY_POST,
    MLFLOW_SNAPSHOT_MODELS,
    MLFLOW_UNCHAINED_WRITES,
    mlflow_world_prepare,
)
from tests.access.vocabulary import (
    ADMIN_DELETE,
    ADMIN_READ,
    ADMIN_UPDATE,
    ADMIN_WRITE,
    ADMINISTRATOR,
    ALL_CALLERS,
    ANNOTATORS,
    ANONYMOUS,
    AUDITOR,
    CHANGE,
    CONTRIBUTOR,
    CREATE_IN_TEAM,
    CREATE_UNDER,
    DENIED,
    GATEWAY,
    MANAGER,
    OUTSIDER,
    READ_TOKEN,
    VALIDATOR,
    VIEW,
    WHY,
    World,
    everyone,
    only,
)
from tests.factories import (
    DatasetFactory,
    DatasetVersionFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    RunFactory,
    UserFactory,
    fake_sha256,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def personas(contributor, outsider, validator, manager, administrator, auditor, gateway):
    return {
        ANONYMOUS: None,
        CONTRIBUTOR: contributor,
        OUTSIDER: outsider,
        VALIDATOR: validator,
        MANAGER: manager,
        ADMINISTRATOR: administrator,
        AUDITOR: auditor,
        GATEWAY: gateway,
    }


@pytest.fixture
def world(team, other_team, contributor, settings) -> World:
    dataset = DatasetFactory(name="loans", owner_team=team)
    dataset_version = DatasetVersionFactory(dataset=dataset)
    run = RunFactory(team=team, inputs=[(dataset_version, "train")])
    temp = registry_services.artifacts.artifact_root() / "tmp" / "upload"
    temp.write_bytes(b"model bytes")
    artifact, _ = registry_services.artifact_store(
        actor=contributor,
        temp_path=temp,
        sha256=hashlib.sha256(b"model bytes").hexdigest(),
        size_bytes=11,
    )
    model = RegisteredModelFactory(name="credit-model", owner_team=team)
    version = ModelVersionFactory(
        registered_model=model,
        run=run,
        artifact=artifact,
        artifact_uri="",
        artifact_sha256="",
        input_schema=MONITORED_INPUTS,
        output_schema=MONITORED_OUTPUTS,
    )
    RegisteredModelFactory(name="marketing-model", owner_team=other_team)
    someone = UserFactory(username="sam")
    team_add_member(team=team, user=someone)
    assignment = role_assign(user=someone, role=RoleName.CONTRIBUTOR, team=team)
    external = UserFactory(username="extval")
    model_assignment = registry_services.model_role_assign(
        actor=None, user=external, role=RoleName.VALIDATOR, registered_model=model
    )
    finding = Annotation.objects.create(
        target=version, author=contributor, kind="finding", body="Check the calibration."
    )
    token, _ = token_create(actor=contributor, name="ci", scopes=["read", "write"])
    _, read_secret = token_create(actor=contributor, name="reader", scopes=["read"])
    return World(
        token=token,
        read_secret=read_secret,
        finding=finding,
        team=team,
        model=model,
        version=version,
        dataset=dataset,
        dataset_version=dataset_version,
        run=run,
        artifact=artifact,
        removable_member="sam",
        role_assignment=assignment,
        model_role_assignment=model_assignment,
    )


Request = Callable[[World], tuple[str, dict | bytes | None]]

MONITORED_INPUTS = {"columns": [{"name": "income", "type": "float64"}]}
MONITORED_OUTPUTS = {"columns": [{"name": "label", "type": "int64", "labels": ["no", "yes"]}]}


@dataclass
class Monitored:
    deployment: object
    alert: object
    rule: object
    deletable_rule: object
    channel: object
    deletable_channel: object
    kpi: object


def _prediction(i: int) -> dict:
    return {"request_id": f"m-{i}", "inputs": {"income": 1000.0 * i}, "outputs": {"label": i % 2}}


def _monitored(w: World) -> Monitored:
    """A staging deployment of the world's version with predictions, a baseline, checks, a
    KPI, a channel, rules and an open alert, built once per test through the services."""
    if getattr(w, "monitored", None) is not None:
        return w.monitored
    from django.utils import timezone

    from monitoring.models import Alert
    from monitoring.services import alerts, baselines, checks, deployments, ingestion, kpis

    builder = w.version.registered_by
    deployment = deployments.deployment_create(
        actor=builder, version=w.version, name="credit-staging", environment="staging", mode="live"
    )
    ingestion.predictions_ingest(
        actor=builder, deployment=deployment, records=[_prediction(i) for i in range(3)]
    )
    baselines.baseline_create(
        actor=builder,
        version=w.version,
        rows=[{"income": float(i), "label": i % 2} for i in range(150)],
    )
    now = timezone.now()
    checks.checks_run(deployment=deployment, window_start=now - timedelta(days=1), window_end=now)
    channel = alerts.alert_channel_create(
        actor=builder, owner_team=w.team, name="ops", kind="email", target="ops@example.org"
    )
    deletable_channel = alerts.alert_channel_create(
        actor=builder, owner_team=w.team, name="old", kind="email", target="old@example.org"
    )
    rule = alerts.alert_rule_create(
        actor=builder, name="drift", check_kind="drift", deployment=deployment, channels=[channel]
    )
    deletable_rule = alerts.alert_rule_create(
        actor=builder, name="unused", check_kind="bias", deployment=deployment
    )
    alert = Alert.objects.create(
        rule=rule,
        deployment=deployment,
        severity="warning",
        title="Drift on income",
        opened_at=now,
        last_seen_at=now,
    )
    kpi = kpis.kpi_create(
        actor=builder, name="Approval rate", direction="higher_is_better", deployment=deployment
    )
    w.monitored = Monitored(
        deployment, alert, rule, deletable_rule, channel, deletable_channel, kpi
    )
    return w.monitored


def _deployment_url(w: World, suffix: str = "") -> str:
    return f"/api/v1/deployments/{_monitored(w).deployment.name}/{suffix}"


# Production evidence (predictions, ground truth, KPI values) is logged by the gateway only.
LOGGERS = only(200, {GATEWAY}, **{OUTSIDER: 404})
DEPLOYERS = only(200, {MANAGER}, **{OUTSIDER: 404})


def _document(w: World) -> GeneratedDocument:
    """A generated model card of the version, made through the services (eager mode)."""
    from governance.services.documents import document_generate, document_request

    document = document_request(
        actor=w.version.registered_by, version=w.version, template_name="model-card"
    )
    return document_generate(document.pk)


def _documents_url(w: World, suffix: str = "") -> str:
    return f"/api/v1/models/{w.model.name}/versions/1/documents/{suffix}"


_unique = itertools.count()


def _name(prefix: str) -> str:
    return f"{prefix}-{next(_unique)}"


def _openlineage_event(w: World) -> dict:
    """A START event with an input and an output, as openlineage-python sends it."""
    facet = {"_producer": "https://example.org/p", "_schemaURL": "https://example.org/s"}
    return {
        "eventType": "START",
        "eventTime": "2026-03-02T09:00:00Z",
        "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": "0190e2d4-7b1c-7c3e-9a55-3f6d2e1b9a01"},
        "job": {"namespace": "etl", "name": "daily_loans"},
        "inputs": [{"namespace": "s3://lake", "name": "loans"}],
        "outputs": [
            {
                "namespace": "s3://lake",
                "name": "scores",
                "facets": {"schema": {**facet, "fields": [{"name": "id", "type": "INT"}]}},
            }
        ],
    }


# (route name, method) -> (how to build the request, expected status per persona)
MATRIX: dict[tuple[str, str], tuple[Request, dict[str, object]]] = {
    ("api-root", "GET"): (lambda w: ("/api/v1/", None), everyone(200)),
    ("api-schema", "GET"): (lambda w: ("/api/schema/", None), everyone(200)),
    ("api-docs", "GET"): (lambda w: ("/api/docs/", None), everyone(200)),
    ("api-redoc", "GET"): (lambda w: ("/api/redoc/", None), everyone(200)),
    ("api-me", "GET"): (lambda w: ("/api/v1/me/", None), everyone(200)),
    # personal API tokens: everyone manages their own; nobody sees another's
    ("token-list", "GET"): (lambda w: ("/api/v1/tokens/", None), everyone(200)),
    ("token-list", "POST"): (
        lambda w: ("/api/v1/tokens/", {"name": _name("ci"), "scopes": ["read"]}),
        everyone(201),
    ),
    ("token-detail", "GET"): (
        lambda w: (f"/api/v1/tokens/{w.token.prefix}/", None),
        only(200, {CONTRIBUTOR}, others=404),
    ),
    ("token-detail", "DELETE"): (
        lambda w: (f"/api/v1/tokens/{w.token.prefix}/", None),
        only(200, {CONTRIBUTOR}, others=404),
    ),
    ("login-event-list", "GET"): (lambda w: ("/api/v1/login-events/", None), ADMIN_READ),
    ("api-audit-events", "GET"): (lambda w: ("/api/v1/audit/events/", None), ADMIN_READ),
    ("api-audit-export", "GET"): (lambda w: ("/api/v1/audit/export/", None), ADMIN_READ),
    # registered models
    ("model-list", "GET"): (lambda w: ("/api/v1/models/", None), everyone(200)),
    ("model-list", "POST"): (
        lambda w: ("/api/v1/models/", {"name": _name("new"), "owner_team": "credit-risk"}),
        CREATE_IN_TEAM,
    ),
    ("model-detail", "GET"): (lambda w: (f"/api/v1/models/{w.model.name}/", None), VIEW),
    ("model-detail", "PATCH"): (
        lambda w: (f"/api/v1/models/{w.model.name}/", {"description": "changed"}),
        CHANGE,
    ),
    # model versions
    ("model-version-list", "GET"): (
        lambda w: (f"/api/v1/models/{w.model.name}/versions/", None),
        VIEW,
    ),
    ("model-version-list", "POST"): (
        lambda w: (
            f"/api/v1/models/{w.model.name}/versions/",
            {"artifact_uri": "s3://m/new.pkl", "artifact_sha256": fake_sha256(_name("a"))},
        ),
        CREATE_UNDER,
    ),
    ("model-version-detail", "GET"): (
        lambda w: (f"/api/v1/models/{w.model.name}/versions/1/", None),
        VIEW,
    ),
    ("model-version-detail", "PATCH"): (
        lambda w: (f"/api/v1/models/{w.model.name}/versions/1/", {"description": "changed"}),
        CHANGE,
    ),
    ("model-version-lineage", "GET"): (
        lambda w: (f"/api/v1/models/{w.model.name}/versions/1/lineage/", None),
        VIEW,
    ),
    # governance
    ("version-transitions", "GET"): (
        lambda w: (f"/api/v1/models/{w.model.name}/versions/1/transitions/", None),
        VIEW,
    ),
    ("version-transitions", "POST"): (
        lambda w: (
            f"/api/v1/models/{w.model.name}/versions/1/transitions/",
            {"action": "submit", "motivation": WHY},
        ),
        only(201, {CONTRIBUTOR}, **{OUTSIDER: 404}),
    ),
    # reclassification (tier or team of a model under review): administrators only
    ("model-reclassify", "POST"): (
        lambda w: (
            f"/api/v1/models/{w.model.name}/reclassify/",
            {"risk_tier": "high", "motivation": WHY},
        ),
        only(201, {ADMINISTRATOR}, **{OUTSIDER: 404}),
    ),
    ("version-governance", "GET"): (
        lambda w: (f"/api/v1/models/{w.model.name}/versions/1/governance/", None),
        VIEW,
    ),
    ("inbox", "GET"): (lambda w: ("/api/v1/inbox/", None), everyone(200)),
    # documentation: read with the version; generate with annotate; a free-text section is
    # written by the role it names (intended use: the developers, i.e. the change verb)
    ("version-documents", "GET"): (lambda w: (_documents_url(w), None), VIEW),
    ("version-documents", "POST"): (
        lambda w: (_documents_url(w), {"template": "model-card"}),
        only(202, ANNOTATORS, **{OUTSIDER: 404}),
    ),
    ("version-document-detail", "GET"): (
        lambda w: (_documents_url(w, f"{_document(w).pk}/"), None),
        VIEW,
    ),
    ("version-document-download", "GET"): (
        lambda w: (_documents_url(w, f"{_document(w).pk}/download/?format=md"), None),
        VIEW,
    ),
    ("version-free-text-list", "GET"): (
        lambda w: (f"/api/v1/models/{w.model.name}/versions/1/free-text/", None),
        VIEW,
    ),
    ("version-free-text", "PUT"): (
        lambda w: (
            f"/api/v1/models/{w.model.name}/versions/1/free-text/model-card/intended_use/",
            {"text": "Pre-screening of loan applications."},
        ),
        CHANGE,
    ),
    ("annotation-list", "GET"): (
        lambda w: (f"/api/v1/annotations/?target_type=model_version&target={w.model.name}/1", None),
        VIEW,
    ),
    ("annotation-list", "POST"): (
        lambda w: (
            "/api/v1/annotations/",
            {"target_type": "model_version", "target": f"{w.model.name}/1", "body": "A note."},
        ),
        only(201, ANNOTATORS, **{OUTSIDER: 404}),
    ),
    # A finding is resolved by its author (here the contributor, who did not register the
    # version) or a validator or approver; an administrator's annotate verb is not enough.
    ("annotation-resolve", "POST"): (
        lambda w: (f"/api/v1/annotations/{w.finding.pk}/resolve/", {"motivation": WHY}),
        only(200, {CONTRIBUTOR, VALIDATOR, MANAGER}, **{OUTSIDER: 404}),
    ),
    # model-scoped roles
    ("model-role-assignment-list", "GET"): (
        lambda w: (f"/api/v1/models/{w.model.name}/role-assignments/", None),
        ADMIN_READ | {OUTSIDER: 404},
    ),
    ("model-role-assignment-list", "POST"): (
        lambda w: (
            f"/api/v1/models/{w.model.name}/role-assignments/",
            {"user": "sam", "role": "validator"},
        ),
        ADMIN_WRITE | {OUTSIDER: 404},
    ),
    ("model-role-assignment-detail", "DELETE"): (
        lambda w: (
            f"/api/v1/models/{w.model.name}/role-assignments/{w.model_role_assignment.pk}/",
            None,
        ),
        ADMIN_DELETE | {OUTSIDER: 404},
    ),
    # datasets
    ("dataset-list", "GET"): (lambda w: ("/api/v1/datasets/", None), everyone(200)),
    ("dataset-list", "POST"): (
        lambda w: ("/api/v1/datasets/", {"name": _name("ds"), "owner_team": "credit-risk"}),
        CREATE_IN_TEAM,
    ),
    ("dataset-detail", "GET"): (lambda w: ("/api/v1/datasets/loans/", None), VIEW),
    ("dataset-detail", "PATCH"): (
        lambda w: ("/api/v1/datasets/loans/", {"description": "changed"}),
        CHANGE,
    ),
    ("dataset-version-list", "GET"): (lambda w: ("/api/v1/datasets/loans/versions/", None), VIEW),
    ("dataset-version-list", "POST"): (
        lambda w: (
            "/api/v1/datasets/loans/versions/",
            {"uri": "s3://d/2", "content_hash": fake_sha256(_name("d"))},
        ),
        CREATE_UNDER,
    ),
    ("dataset-version-detail", "GET"): (
        lambda w: ("/api/v1/datasets/loans/versions/1/", None),
        VIEW,
    ),
    ("dataset-version-lineage", "GET"): (
        lambda w: ("/api/v1/datasets/loans/versions/1/lineage/", None),
        VIEW,
    ),
    # runs
    ("run-list", "GET"): (lambda w: ("/api/v1/runs/", None), everyone(200)),
    ("run-list", "POST"): (
        lambda w: ("/api/v1/runs/", {"kind": "training", "team": "credit-risk"}),
        CREATE_IN_TEAM,
    ),
    ("run-detail", "GET"): (lambda w: (f"/api/v1/runs/{w.run.uuid}/", None), VIEW),
    ("run-detail", "PATCH"): (
        lambda w: (f"/api/v1/runs/{w.run.uuid}/", {"notes": "changed"}),
        CHANGE,
    ),
    ("run-lineage", "GET"): (lambda w: (f"/api/v1/runs/{w.run.uuid}/lineage/", None), VIEW),
    # artifacts: any contributor may upload; reading follows the versions that use them
    ("artifact-list", "GET"): (lambda w: ("/api/v1/artifacts/", None), everyone(200)),
    ("artifact-list", "POST"): (
        lambda w: ("/api/v1/artifacts/?filename=x.bin", _name("bytes").encode()),
        only(201, {CONTRIBUTOR, OUTSIDER, ADMINISTRATOR}),
    ),
    ("artifact-detail", "GET"): (
        lambda w: (f"/api/v1/artifacts/{w.artifact.sha256}/", None),
        VIEW,
    ),
    ("artifact-download", "GET"): (
        lambda w: (f"/api/v1/artifacts/{w.artifact.sha256}/download/", None),
        VIEW,
    ),
    # teams, roles, assignments
    ("team-list", "GET"): (lambda w: ("/api/v1/teams/", None), everyone(200)),
    ("team-list", "POST"): (
        lambda w: ("/api/v1/teams/", {"name": _name("Team")}),
        ADMIN_WRITE,
    ),
    ("team-detail", "GET"): (lambda w: ("/api/v1/teams/credit-risk/", None), everyone(200)),
    ("team-members", "GET"): (
        lambda w: ("/api/v1/teams/credit-risk/members/", None),
        ADMIN_READ,
    ),
    ("team-members", "POST"): (
        lambda w: ("/api/v1/teams/credit-risk/members/", {"user": "extval"}),
        ADMIN_WRITE,
    ),
    ("team-remove-member", "DELETE"): (
        lambda w: (f"/api/v1/teams/credit-risk/members/{w.removable_member}/", None),
        ADMIN_DELETE,
    ),
    ("role-list", "GET"): (lambda w: ("/api/v1/roles/", None), everyone(200)),
    ("role-detail", "GET"): (lambda w: ("/api/v1/roles/validator/", None), everyone(200)),
    ("role-detail", "PATCH"): (
        lambda w: ("/api/v1/roles/validator/", {"qualifications": "Changed."}),
        ADMIN_UPDATE,
    ),
    ("role-assignment-list", "GET"): (lambda w: ("/api/v1/role-assignments/", None), ADMIN_READ),
    ("role-assignment-list", "POST"): (
        lambda w: ("/api/v1/role-assignments/", {"user": "sam", "role": "auditor"}),
        ADMIN_WRITE,
    ),
    ("role-assignment-detail", "GET"): (
        lambda w: (f"/api/v1/role-assignments/{w.role_assignment.pk}/", None),
        ADMIN_READ,
    ),
    ("role-assignment-detail", "DELETE"): (
        lambda w: (f"/api/v1/role-assignments/{w.role_assignment.pk}/", None),
        ADMIN_DELETE,
    ),
    # monitoring: who may see the model sees its deployments and everything about them;
    # managers deploy; the gateway logs predictions, truth and KPI values; a draft's baseline is
    # its builders' and deployers' (after submission: an independent validator's or deployer's)
    ("deployment-list", "GET"): (lambda w: ("/api/v1/deployments/", None), everyone(200)),
    ("deployment-list", "POST"): (
        lambda w: (
            "/api/v1/deployments/",
            {
                "model": "credit-model",
                "version": 1,
                "name": _name("dep"),
                "environment": "staging",
                "mode": "live",
            },
        ),
        only(201, {MANAGER}, **{OUTSIDER: 404}),
    ),
    ("deployment-detail", "GET"): (lambda w: (_deployment_url(w), None), VIEW),
    ("deployment-retire", "POST"): (
        lambda w: (_deployment_url(w, "retire/"), {"reason": "Retired for the matrix test."}),
        DEPLOYERS,
    ),
    # retention and legal holds: platform administrators' (the service's role check)
    ("deployment-legal-hold", "POST"): (
        lambda w: (
            _deployment_url(w, "legal-hold/"),
            {"hold": True, "reason": "Held for the matrix test."},
        ),
        only(200, {ADMINISTRATOR}, **{OUTSIDER: 404}),
    ),
    ("deployment-retention", "POST"): (
        lambda w: (
            _deployment_url(w, "retention/"),
            {"retention_days": 30, "reason": "Kept a month for the matrix test."},
        ),
        only(200, {ADMINISTRATOR}, **{OUTSIDER: 404}),
    ),
    ("prediction-log", "GET"): (lambda w: (_deployment_url(w, "predictions/"), None), VIEW),
    ("prediction-log", "POST"): (
        lambda w: (_deployment_url(w, "predictions/"), {"records": [_prediction(9)]}),
        LOGGERS,
    ),
    ("prediction-feedback", "POST"): (
        lambda w: (
            _deployment_url(w, "feedback/"),
            {"records": [{"request_id": "m-1", "ground_truth": 1}]},
        ),
        LOGGERS,
    ),
    ("check-results", "GET"): (lambda w: (_deployment_url(w, "checks/"), None), VIEW),
    ("check-results", "POST"): (
        lambda w: (_deployment_url(w, "checks/"), None),
        only(202, {CONTRIBUTOR, VALIDATOR, MANAGER, ADMINISTRATOR}, **{OUTSIDER: 404}),
    ),
    ("deployment-health", "GET"): (lambda w: (_deployment_url(w, "health/"), None), VIEW),
    ("prediction-trace", "GET"): (
        lambda w: (_monitored(w) and "/api/v1/predictions/m-1/", None),
        VIEW,
    ),
    ("baselines", "GET"): (
        lambda w: (_monitored(w) and "/api/v1/models/credit-model/versions/1/baselines/", None),
        VIEW,
    ),
    ("baselines", "POST"): (
        lambda w: (
            "/api/v1/models/credit-model/versions/1/baselines/",
            {"rows": [{"income": float(i), "label": 1} for i in range(120)]},
        ),
        only(201, {CONTRIBUTOR, ADMINISTRATOR, MANAGER}, **{OUTSIDER: 404}),
    ),
    ("kpi-list", "GET"): (lambda w: ("/api/v1/kpis/", None), everyone(200)),
    ("kpi-list", "POST"): (
        lambda w: (
            "/api/v1/kpis/",
            {
                "name": "Manual reviews",
                "deployment": _monitored(w).deployment.name,
                "direction": "lower_is_better",
            },
        ),
        only(201, {MANAGER}, **{OUTSIDER: 404}),
    ),
    ("kpi-detail", "GET"): (lambda w: (f"/api/v1/kpis/{_monitored(w).kpi.pk}/", None), VIEW),
    ("kpi-values", "GET"): (
        lambda w: (f"/api/v1/kpis/{_monitored(w).kpi.pk}/values/", None),
        VIEW,
    ),
    ("kpi-values", "POST"): (
        lambda w: (
            f"/api/v1/kpis/{_monitored(w).kpi.pk}/values/",
            {"deployment": "credit-staging", "value": 0.7},
        ),
        only(201, {GATEWAY}, **{OUTSIDER: 404}),
    ),
    ("alert-list", "GET"): (lambda w: ("/api/v1/alerts/", None), everyone(200)),
    ("alert-detail", "GET"): (
        lambda w: (f"/api/v1/alerts/{_monitored(w).alert.pk}/", None),
        VIEW,
    ),
    ("alert-events", "GET"): (
        lambda w: (f"/api/v1/alerts/{_monitored(w).alert.pk}/events/", None),
        VIEW,
    ),
    ("alert-acknowledge", "POST"): (
        lambda w: (
            f"/api/v1/alerts/{_monitored(w).alert.pk}/acknowledge/",
            {"note": "Looking into it."},
        ),
        only(200, {MANAGER, VALIDATOR}, **{OUTSIDER: 404}),
    ),
    ("alert-resolve", "POST"): (
        lambda w: (
            f"/api/v1/alerts/{_monitored(w).alert.pk}/resolve/",
            {"note": "Upstream feed fixed."},
        ),
        DEPLOYERS,
    ),
    ("alert-rule-list", "GET"): (lambda w: ("/api/v1/alert-rules/", None), everyone(200)),
    ("alert-rule-list", "POST"): (
        lambda w: (
            "/api/v1/alert-rules/",
            {
                "name": _name("rule"),
                "deployment": _monitored(w).deployment.name,
                "check_kind": "performance",
            },
        ),
        only(201, {MANAGER}, **{OUTSIDER: 404}),
    ),
    ("alert-rule-detail", "GET"): (
        lambda w: (f"/api/v1/alert-rules/{_monitored(w).rule.pk}/", None),
        VIEW,
    ),
    ("alert-rule-detail", "PATCH"): (
        lambda w: (f"/api/v1/alert-rules/{_monitored(w).rule.pk}/", {"severity": "critical"}),
        DEPLOYERS,
    ),
    ("alert-rule-detail", "DELETE"): (
        lambda w: (f"/api/v1/alert-rules/{_monitored(w).deletable_rule.pk}/", None),
        only(204, {MANAGER}, **{OUTSIDER: 404}),
    ),
    ("alert-channel-list", "GET"): (lambda w: ("/api/v1/alert-channels/", None), everyone(200)),
    ("alert-channel-list", "POST"): (
        lambda w: (
            "/api/v1/alert-channels/",
            {
                "name": _name("mail"),
                "owner_team": "credit-risk",
                "kind": "email",
                "target": "risk@example.org",
            },
        ),
        only(201, {MANAGER, ADMINISTRATOR}),
    ),
    ("alert-channel-detail", "GET"): (
        lambda w: (f"/api/v1/alert-channels/{_monitored(w).channel.pk}/", None),
        VIEW,
    ),
    ("alert-channel-detail", "PATCH"): (
        lambda w: (f"/api/v1/alert-channels/{_monitored(w).channel.pk}/", {"enabled": False}),
        only(200, {MANAGER, ADMINISTRATOR}, **{OUTSIDER: 404}),
    ),
    ("alert-channel-detail", "DELETE"): (
        lambda w: (f"/api/v1/alert-channels/{_monitored(w).deletable_channel.pk}/", None),
        only(204, {MANAGER, ADMINISTRATOR}, **{OUTSIDER: 404}),
    ),
    # OpenLineage events are written as the token's user, for the one team it contributes to
    # (Otto's land in Marketing); the administrator belongs to no team and has none to write for
    ("openlineage-lineage", "POST"): (
        lambda w: ("/api/v1/lineage", _openlineage_event(w)),
        only(201, {CONTRIBUTOR, OUTSIDER}),
    ),
}

MATRIX.update(MLFLOW_MATRIX)

MONITORING_MODELS = [
    Deployment,
    Prediction,
    BaselineProfile,
    CheckResult,
    Kpi,
    KpiValue,
    AlertRule,
    AlertChannel,
    Alert,
]
SNAPSHOT_MODELS = [
    RegisteredModel,
    ModelVersion,
    Dataset,
    DatasetVersion,
    Run,
    Artifact,
    Team,
    TeamMembership,
    Role,
    RoleAssignment,
    ModelRoleAssignment,
    ApiToken,
    Annotation,
    Decision,
    GeneratedDocument,
    FreeTextSection,
    *MONITORING_MODELS,
    OpenLineageEvent,
    OpenLineageRun,
    OpenLineageDataset,
    *MLFLOW_SNAPSHOT_MODELS,
]


# Bookkeeping a request may update even when it is refused: when a token was last used.
SNAPSHOT_IGNORED = {"accounts.ApiToken": {"last_used_at", "last_used_ip", "updated_at"}}


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every model a request could change, to compare before and after."""
    rows = {}
    for model in SNAPSHOT_MODELS:
        ignored = SNAPSHOT_IGNORED.get(model._meta.label, set())
        fields = [f.attname for f in model._meta.concrete_fields if f.name not in ignored]
        rows[model._meta.label] = list(model.objects.order_by("pk").values_list(*fields))
    return rows


# The audit contract: what each allowed write appends to the hash chain (at least these
# actions, in the same transaction as the change). A refused write appends nothing but the
# login audit's record of a token's first use that day.
AUDIT_EVENTS: dict[tuple[str, str], set[str]] = {
    ("alert-acknowledge", "POST"): {"alert.acknowledge"},
    ("alert-channel-detail", "DELETE"): {"alert_channel.delete"},
    ("alert-channel-detail", "PATCH"): {"alert_channel.update"},
    ("alert-channel-list", "POST"): {"alert_channel.create"},
    ("alert-resolve", "POST"): {"alert.resolve"},
    ("alert-rule-detail", "DELETE"): {"alert_rule.delete"},
    ("alert-rule-detail", "PATCH"): {"alert_rule.update"},
    ("alert-rule-list", "POST"): {"alert_rule.create"},
    ("annotation-list", "POST"): {"annotation.create"},
    ("annotation-resolve", "POST"): {"annotation.resolve"},
    ("artifact-list", "POST"): {"artifact.upload"},
    ("baselines", "POST"): {"baseline.create"},
    ("dataset-detail", "PATCH"): {"dataset.update"},
    ("dataset-list", "POST"): {"dataset.register"},
    ("dataset-version-list", "POST"): {"dataset_version.register"},
    ("deployment-legal-hold", "POST"): {"deployment.legal_hold"},
    ("deployment-list", "POST"): {"deployment.create"},
    ("deployment-retention", "POST"): {"deployment.retention_set"},
    ("deployment-retire", "POST"): {"deployment.retire", "alert.resolve"},
    ("kpi-list", "POST"): {"kpi.create"},
    ("kpi-values", "POST"): {"kpi_value.record"},
    ("model-detail", "PATCH"): {"model.update"},
    ("model-list", "POST"): {"model.register"},
    ("model-reclassify", "POST"): {"model.reclassify"},
    ("model-role-assignment-detail", "DELETE"): {"role.revoke"},
    ("model-role-assignment-list", "POST"): {"role.grant"},
    ("model-version-detail", "PATCH"): {"version.update"},
    ("model-version-list", "POST"): {"version.register"},
    ("openlineage-lineage", "POST"): {
        "openlineage.event",
        "run.register",
        "dataset.register",
        "dataset_version.register",
    },
    ("role-assignment-detail", "DELETE"): {"role.revoke"},
    ("role-assignment-list", "POST"): {"role.grant"},
    ("role-detail", "PATCH"): {"role.describe"},
    ("run-detail", "PATCH"): {"run.update"},
    ("run-list", "POST"): {"run.register"},
    ("team-list", "POST"): {"team.create"},
    ("team-members", "POST"): {"team.join"},
    ("team-remove-member", "DELETE"): {"team.leave"},
    ("token-detail", "DELETE"): {"token.revoke"},
    ("token-list", "POST"): {"token.create"},
    ("version-documents", "POST"): {"document.request"},
    ("version-free-text", "PUT"): {"document.free_text_write"},
    ("version-transitions", "POST"): {"version.submit"},
}
# Writes that append nothing to the chain, and why.
UNCHAINED_WRITES = {
    ("check-results", "POST"): "queues the checks; their results and any alert are recorded",
    ("prediction-log", "POST"): "the prediction rows are the record (append-only, unique ids)",
    ("prediction-feedback", "POST"): "ground truth rows are the record (never overwritten)",
    **MLFLOW_UNCHAINED_WRITES,
}
AUDIT_EVENTS.update(MLFLOW_AUDIT_EVENTS)
# Reads sent as POST (MLflow's searches): a read-only token may make them.
READS_BY_POST = MLFLOW_READS_BY_POST
CHAIN_BOOKKEEPING = {"token.success"}


def _chain_actions_after(sequence: int) -> set[str]:
    from core.models import AuditEvent

    return set(AuditEvent.objects.filter(sequence__gt=sequence).values_list("action", flat=True))


def test_every_write_route_says_what_it_appends_to_the_audit_chain():
    writes = {key for key in MATRIX if key[1] != "GET"}
    assert writes - AUDIT_EVENTS.keys() - UNCHAINED_WRITES.keys() == set()
    assert not AUDIT_EVENTS.keys() & UNCHAINED_WRITES.keys()


def _chain_head() -> int:
    from core.models import AuditEvent

    return AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0


def call(client: APIClient, method: str, path: str, data):
    if isinstance(data, bytes):
        return client.generic(method, path, data, content_type="application/octet-stream")
    return getattr(client, method.lower())(path, data, format="json")


CASES = [
    pytest.param(route, method, persona, id=f"{route}-{method}-{persona}")
    for (route, method) in MATRIX
    for persona in ALL_CALLERS
]


def expected_status(expected: dict[str, object], route: str, method: str, persona: str) -> object:
    if persona == READ_TOKEN:
        # Reads as its owner would; every write is refused for want of a scope.
        return expected[CONTRIBUTOR] if method == "GET" or (route, method) in READS_BY_POST else 403
    return expected[persona]


@pytest.mark.parametrize(("route", "method", "persona"), CASES)
def test_permission_matrix(world, personas, route, method, persona):
    build, expected = MATRIX[(route, method)]
    mlflow_world_prepare(route, method, world)
    path, data = build(world)
    client = APIClient()
    if persona == READ_TOKEN:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.read_secret}")
    elif personas[persona] is not None:
        client.force_authenticate(personas[persona])
    before = snapshot() if method != "GET" else None
    chain_head = _chain_head()

    response = call(client, method, path, data)

    want = expected_status(expected, route, method, persona)
    if want == DENIED:
        assert response.status_code in (401, 403), response.content[:300]
    else:
        assert response.status_code == want, response.content[:300]
    if method != "GET" and response.status_code >= 400:
        assert snapshot() == before, "a refused request changed the database"
    if method != "GET":
        appended = _chain_actions_after(chain_head) - CHAIN_BOOKKEEPING
        if response.status_code >= 400:
            assert not appended, f"a refused request appended {appended} to the audit chain"
        else:
            want_events = AUDIT_EVENTS.get((route, method), set())
            assert want_events <= appended, f"expected {want_events} in the chain, got {appended}"


def test_lists_show_only_what_each_persona_may_view(world, personas):
    """A list leaves out what the detail route would answer 404 for."""
    visible = {}
    for persona in (CONTRIBUTOR, OUTSIDER, AUDITOR):
        client = APIClient()
        client.force_authenticate(personas[persona])
        visible[persona] = {m["name"] for m in client.get("/api/v1/models/").json()["results"]}
    assert visible[CONTRIBUTOR] == {"credit-model"}
    assert visible[OUTSIDER] == {"marketing-model"}
    assert visible[AUDITOR] == {"credit-model", "marketing-model"}


def _api_routes():
    """(name, methods) of every route under /api/, from the URL configuration itself."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            # A regular-expression route reads "^api/..." (MLflow's paths): without its anchor,
            # so no route escapes the matrix by how it is written.
            route = prefix + str(pattern.pattern).removeprefix("^")
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                yield route, pattern

    for route, pattern in walk(get_resolver().url_patterns):
        if not route.startswith("api/"):
            continue
        view = pattern.callback
        actions = getattr(view, "actions", None)
        if actions:
            allowed = set(getattr(view.cls, "http_method_names", actions))
            methods = {m.upper() for m in actions if m in allowed}
        else:
            view_class = getattr(view, "view_class", None) or getattr(view, "cls", None)
            methods = {
                m.upper()
                for m in getattr(view_class, "http_method_names", [])
                if hasattr(view_class, m) and m not in ("head", "options")
            }
        yield pattern.name, methods - {"HEAD", "OPTIONS"}


def test_every_api_route_is_in_the_matrix():
    missing = sorted(
        (name, method)
        for name, methods in _api_routes()
        for method in methods
        if (name, method) not in MATRIX
    )
    assert missing == [], f"add these routes to the permission matrix: {missing}"
