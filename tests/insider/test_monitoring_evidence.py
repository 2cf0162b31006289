"""Insider attacks on monitoring's evidence and on the production gate (issue #12, items 5-8).

Each test is the attack as its author would try it through the API, with their own account or
token: the refusal (status and message), that nothing changed, and that a refusal appends
nothing to the audit chain. The allowed path (the serving gateway logs, an independent
validator sets the baseline, a manager promotes) is proven beside it."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.choices import RoleName
from accounts.services import role_assign, token_create
from core.models import AuditEvent
from governance.models import Decision, Policy
from governance.services.transitions import version_flag_by_monitoring
from monitoring.choices import ChannelKind
from monitoring.models import (
    AlertChannel,
    AlertRule,
    BaselineProfile,
    Deployment,
    Kpi,
    KpiValue,
    Prediction,
)
from monitoring.services.alerts import alert_channel_create, alert_rule_create
from monitoring.services.baselines import baseline_create
from monitoring.services.deployments import deployment_create
from monitoring.services.ingestion import predictions_ingest
from monitoring.services.kpis import kpi_create
from monitoring.tests.test_monitoring_services import (
    INPUT_SCHEMA,
    OUTPUT_SCHEMA,
    WHY,
    _records,
)
from registry.choices import VersionStatus
from tests.factories import ModelVersionFactory, RegisteredModelFactory, UserFactory, version_decide

pytestmark = pytest.mark.django_db

BASELINES = "/api/v1/models/credit-scoring/versions/{}/baselines/"
PREDICTIONS = "/api/v1/deployments/credit-prod/predictions/"
FEEDBACK = "/api/v1/deployments/credit-prod/feedback/"
SLACK = "https://hooks.slack.com/services/T0CREDIT/B0RISK/s3cr3tT0kenInThePath"


def client_for(user=None, *, secret: str | None = None) -> APIClient:
    client = APIClient()
    if secret is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        client.get("/api/v1/me/")  # a token's first use of the day is recorded; not the attack
    elif user is not None:
        client.force_authenticate(user)
    return client


def _reference_rows(n: int = 300) -> list[dict]:
    return [
        {"income": float(1000 * i), "age": 30.0 + i % 7, "segment": "ab"[i % 2], "label": i % 2}
        for i in range(n)
    ]


def _register(team, contributor):
    """Carol registers credit-scoring v1 herself: she is its registrant."""
    model = RegisteredModelFactory(owner_team=team, name="credit-scoring")
    return ModelVersionFactory(
        actor=contributor,
        registered_model=model,
        input_schema=INPUT_SCHEMA,
        output_schema=OUTPUT_SCHEMA,
        metrics={"auc": 0.9, "accuracy": 0.85},
    )


def _approve(version, contributor, validator, manager):
    for actor, action in (
        (contributor, "submit"),
        (validator, "claim"),
        (validator, "sign_off"),
        (manager, "approve"),
    ):
        version_decide(actor=actor, version=version, action=action, motivation=WHY)
    version.refresh_from_db()
    return version


@pytest.fixture
def approved(team, contributor, validator, manager):
    return _approve(_register(team, contributor), contributor, validator, manager)


@pytest.fixture
def live(approved, manager, validator, gateway):
    """v1 serves production traffic: deployed live by the manager (the promote decision), its
    baseline set by the validator, a day of traffic logged by the gateway."""
    deployment = deployment_create(
        actor=manager,
        version=approved,
        name="credit-prod",
        environment="production",
        mode="live",
        description="Live after the credit committee's approval.",
    )
    baseline_create(actor=validator, version=approved, rows=_reference_rows(), source_label="v")
    predictions_ingest(
        actor=gateway, deployment=deployment, records=_records(20, np.random.default_rng(1))
    )
    return deployment


def _state():
    """What the attacks must leave as it was."""
    return {
        "baselines": list(BaselineProfile.objects.values_list("id", "content_sha256")),
        "predictions": Prediction.objects.count(),
        "truth": Prediction.objects.filter(ground_truth__isnull=False).count(),
        "kpi_values": KpiValue.objects.count(),
        "deployments": list(Deployment.objects.values_list("id", "status")),
        "rules": list(AlertRule.objects.values_list("id", "severity", "flag_version")),
        "decisions": Decision.objects.count(),
        "events": AuditEvent.objects.count(),
    }


def _refused(response, status: int, says: str) -> None:
    assert response.status_code == status, response.content[:400]
    assert says in response.json()["message"], response.json()


# --- Item 5: the developer sets the evidence -------------------------------------------------


def test_it_refuses_the_contributor_replacing_the_baseline_of_a_version_in_production(
    live, approved, contributor
):
    """The developer cannot swap the reference her model's drift is measured against once
    the version left her hands: not as rows, not as a CSV body, not from training data."""
    before = _state()
    api = client_for(contributor)

    rows = api.post(BASELINES.format(1), {"rows": _reference_rows()}, format="json")
    csv = api.post(
        BASELINES.format(1), b"income,age,segment,label\n1,2,a,0\n", content_type="text/csv"
    )
    training = api.post(BASELINES.format(1), {"from_training_data": True}, format="json")

    for response in (rows, csv, training):
        _refused(response, 403, "may not validate or deploy")
    assert _state() == before


def test_the_registrant_or_submitter_holding_a_validator_role_still_may_not_set_it(
    team, approved, contributor, teammate, validator, manager
):
    """Separation of duties: a second role does not make the version's registrant (or its
    submitter) independent of it."""
    role_assign(user=contributor, role=RoleName.VALIDATOR, team=team)
    v2 = ModelVersionFactory(
        registered_model=approved.registered_model,
        input_schema=INPUT_SCHEMA,
        output_schema=OUTPUT_SCHEMA,
    )
    role_assign(user=teammate, role=RoleName.VALIDATOR, team=team)
    version_decide(actor=teammate, version=v2, action="submit", motivation=WHY)
    before = _state()

    registrant = client_for(contributor).post(
        BASELINES.format(1), {"rows": _reference_rows()}, format="json"
    )
    submitter = client_for(teammate).post(
        BASELINES.format(2), {"rows": _reference_rows()}, format="json"
    )

    _refused(registrant, 403, "You registered this version")
    _refused(submitter, 403, "You submitted this version")
    assert _state() == before


def test_an_independent_validator_replaces_it_in_the_chain_and_a_draft_stays_the_builders(
    live, approved, contributor, validator, manager
):
    previous = approved.baselines.get()

    response = client_for(validator).post(
        BASELINES.format(1), {"rows": _reference_rows(200)}, format="json"
    )

    assert response.status_code == 201, response.content
    event = AuditEvent.objects.filter(action="baseline.create").latest("sequence")
    assert event.actor_username == validator.username
    assert event.data["replaces"] == previous.pk
    assert event.data["version_status"] == VersionStatus.PRODUCTION
    assert (
        client_for(manager)
        .post(BASELINES.format(1), {"rows": _reference_rows(150)}, format="json")
        .status_code
        == 201
    )

    draft = ModelVersionFactory(
        actor=contributor,
        registered_model=approved.registered_model,
        input_schema=INPUT_SCHEMA,
        output_schema=OUTPUT_SCHEMA,
    )
    mine = client_for(contributor).post(
        BASELINES.format(draft.version), {"rows": _reference_rows()}, format="json"
    )
    assert mine.status_code == 201, mine.content


def test_a_write_token_does_not_set_the_baseline_of_a_reviewed_version(live, validator):
    """A token sets a baseline with the scope of the verb it takes: validate or deploy."""
    _, write = token_create(actor=validator, name="ci", scopes=["read", "write"])
    _, validate = token_create(actor=validator, name="review", scopes=["validate"])
    api = client_for(secret=write)
    before = _state()

    response = api.post(BASELINES.format(1), {"rows": _reference_rows()}, format="json")

    _refused(response, 403, "lacks the 'validate' or 'deploy' scope")
    assert _state() == before
    allowed = client_for(secret=validate).post(
        BASELINES.format(1), {"rows": _reference_rows()}, format="json"
    )
    assert allowed.status_code == 201, allowed.content


@pytest.mark.parametrize("who", ["contributor", "manager", "administrator"])
def test_it_refuses_anyone_but_the_gateway_logging_production_evidence(request, live, manager, who):
    """Predictions, ground truth and KPI values are the evidence a model is judged by: its
    developer (with her write token), its deployer and an administrator do not write them."""
    actor = request.getfixturevalue(who)
    kpi = kpi_create(
        actor=manager, name="Approval rate", direction="higher_is_better", deployment=live
    )
    _, secret = token_create(actor=actor, name="ci", scopes=["read", "write"])
    api = client_for(secret=secret)
    before = _state()

    logged = api.post(
        PREDICTIONS, {"records": _records(5, np.random.default_rng(7), prefix="x")}, format="json"
    )
    truth = api.post(FEEDBACK, {"records": [{"request_id": "r-0", "ground_truth": 1}]})
    value = api.post(f"/api/v1/kpis/{kpi.pk}/values/", {"deployment": "credit-prod", "value": 0.9})

    for response in (logged, truth, value):
        _refused(response, 403, "Only a serving gateway logs")
    assert _state() == before


def test_an_outsider_does_not_learn_the_deployment_exists(live, outsider):
    response = client_for(outsider).post(
        PREDICTIONS, {"records": _records(1, np.random.default_rng(8))}, format="json"
    )
    assert response.status_code == 404


def test_the_gateway_logs_predictions_truth_and_kpi_values_with_a_write_token(
    live, manager, gateway
):
    kpi = kpi_create(
        actor=manager, name="Approval rate", direction="higher_is_better", deployment=live
    )
    _, secret = token_create(actor=gateway, name="gateway", scopes=["write"])
    api = client_for(secret=secret)

    logged = api.post(
        PREDICTIONS, {"records": _records(5, np.random.default_rng(9), prefix="g")}, format="json"
    )
    truth = api.post(
        FEEDBACK, {"records": [{"request_id": "g-0", "ground_truth": 1}]}, format="json"
    )
    value = api.post(
        f"/api/v1/kpis/{kpi.pk}/values/",
        {"deployment": "credit-prod", "value": 0.75},
        format="json",
    )

    assert logged.status_code == 200 and logged.json()["accepted"] == 5
    assert truth.status_code == 200 and truth.json()["updated"] == 1
    assert value.status_code == 201, value.content
    event = AuditEvent.objects.get(action="kpi_value.record")
    assert (event.actor_username, event.data["value"]) == ("gus", 0.75)
    assert event.scope_version == "credit-scoring/1"


def test_the_gateway_may_do_nothing_else(live, approved, gateway):
    api = client_for(gateway)
    before = _state()

    baseline = api.post(BASELINES.format(1), {"rows": _reference_rows()}, format="json")
    deploy = api.post(
        "/api/v1/deployments/",
        {"model": "credit-scoring", "version": 1, "name": "gw", "environment": "staging"},
        format="json",
    )
    retire = api.post(
        "/api/v1/deployments/credit-prod/retire/", {"reason": "The gateway retires it."}
    )

    _refused(baseline, 403, "may not validate or deploy")
    assert deploy.status_code in (400, 403)
    _refused(retire, 403, "may not deploy")
    assert _state() == before


# --- Item 6: promotion avoided by a canary; an overdue validation served again --------------


def _deploy(manager, mode: str, traffic: int | None = None, name: str = "credit-canary"):
    body = {
        "model": "credit-scoring",
        "version": 1,
        "name": name,
        "environment": "production",
        "mode": mode,
    }
    if traffic is not None:
        body["traffic_percent"] = traffic
    return client_for(manager).post("/api/v1/deployments/", body, format="json")


def test_a_99_percent_canary_of_an_approved_version_is_its_promotion(approved, manager):
    """The canary cannot serve production traffic around the promote decision: deploying it
    is that decision, recorded, in the chain."""
    response = _deploy(manager, "canary", 99)

    assert response.status_code == 201, response.content
    approved.refresh_from_db()
    assert approved.status == VersionStatus.PRODUCTION
    promote = Decision.objects.get(version=approved, action="promote")
    assert promote.actor == manager
    assert "canary on 99 %" in promote.motivation
    assert AuditEvent.objects.filter(action="version.promote", actor_username="max").exists()


def _overdue(version) -> None:
    days = Policy.objects.get(risk_tier=version.registered_model.risk_tier).revalidation_days
    Decision.objects.filter(version=version, to_state=VersionStatus.VALIDATED).update(
        created_at=timezone.now() - timedelta(days=days + 1)
    )


@pytest.mark.parametrize(("mode", "traffic"), [("canary", 1), ("canary", 99), ("live", None)])
def test_an_approved_version_whose_revalidation_is_overdue_serves_nothing(
    approved, manager, mode, traffic
):
    _overdue(approved)
    before = _state()

    response = _deploy(manager, mode, traffic)

    _refused(response, 409, "Revalidation was due")
    approved.refresh_from_db()
    assert approved.status == VersionStatus.APPROVED
    assert _state() == before


@pytest.mark.parametrize(("mode", "traffic"), [("canary", 5), ("live", None)])
def test_a_production_version_whose_revalidation_is_overdue_is_not_deployed_again(
    live, approved, manager, mode, traffic
):
    _overdue(approved)
    before = _state()

    response = _deploy(manager, mode, traffic, name="credit-prod-2")

    _refused(response, 409, "Validation current: Revalidation was due")
    assert _state() == before
    shadow = _deploy(manager, "shadow", name="credit-shadow")
    assert shadow.status_code == 201, shadow.content  # watching serves nobody


def test_a_production_version_short_of_the_policys_sign_offs_is_not_deployed_again(
    live, approved, manager
):
    """The tier's policy now asks two sign-offs; v1 has one: it is not served again."""
    Policy.objects.filter(risk_tier=approved.registered_model.risk_tier).update(
        required_sign_offs=2
    )
    before = _state()

    response = _deploy(manager, "live", name="credit-prod-2")

    _refused(response, 409, "1 of 2 required sign-offs")
    assert _state() == before


@pytest.mark.parametrize(("mode", "traffic"), [("canary", 50), ("live", None)])
def test_a_flagged_version_cannot_go_live_or_canary(live, approved, manager, mode, traffic):
    version_flag_by_monitoring(version=approved, motivation="Critical drift on income.")
    before = _state()

    response = _deploy(manager, mode, traffic, name="credit-again")

    _refused(response, 409, "Only a version that is approved")
    assert _state() == before


# --- Item 7: a write-only token manages the rules that flag versions ------------------------


def test_a_write_only_token_cannot_manage_alert_rules(live, manager):
    rule = alert_rule_create(
        actor=manager, name="drift", check_kind="drift", deployment=live, flag_version=False
    )
    _, write = token_create(actor=manager, name="ci", scopes=["read", "write"])
    api = client_for(secret=write)
    before = _state()

    created = api.post(
        "/api/v1/alert-rules/",
        {
            "name": "flagger",
            "deployment": "credit-prod",
            "check_kind": "drift",
            "min_status": "warning",
            "flag_version": True,
        },
        format="json",
    )
    changed = api.patch(f"/api/v1/alert-rules/{rule.pk}/", {"flag_version": True}, format="json")
    deleted = api.delete(f"/api/v1/alert-rules/{rule.pk}/")

    for response in (created, changed, deleted):
        _refused(response, 403, "lacks the 'deploy' scope")
    assert _state() == before

    _, deploy = token_create(actor=manager, name="ops", scopes=["deploy"])
    allowed = client_for(secret=deploy).patch(
        f"/api/v1/alert-rules/{rule.pk}/", {"severity": "critical"}, format="json"
    )
    assert allowed.status_code == 200, allowed.content
    assert AuditEvent.objects.filter(action="alert_rule.update").exists()


def test_rules_and_kpi_values_still_read_with_a_read_token(live, manager, gateway):
    kpi = kpi_create(actor=manager, name="Rate", direction="higher_is_better", deployment=live)
    _, read = token_create(actor=gateway, name="reader", scopes=["read"])
    api = client_for(secret=read)
    assert api.get("/api/v1/alert-rules/").status_code == 200
    assert api.get(f"/api/v1/kpis/{kpi.pk}/values/").status_code == 200
    refused = api.post(
        f"/api/v1/kpis/{kpi.pk}/values/", {"deployment": "credit-prod", "value": 1.0}
    )
    _refused(refused, 403, "lacks the 'write' scope")
    assert not Kpi.objects.exclude(pk=kpi.pk).exists()


# --- Item 8: alert channel targets are credentials ------------------------------------------


@pytest.fixture
def channels(team, manager, monkeypatch):
    # Slack's host resolves to a public address (no DNS in the test sandbox).
    monkeypatch.setattr("core.outbound.host_addresses", lambda host, port: ["52.4.1.1"])
    slack = alert_channel_create(
        actor=manager, owner_team=team, name="risk-slack", kind=ChannelKind.SLACK, target=SLACK
    )
    mail = alert_channel_create(
        actor=manager,
        owner_team=team,
        name="risk-mail",
        kind=ChannelKind.EMAIL,
        target="max@example.org, carol@example.org",
    )
    return slack, mail


@pytest.mark.parametrize("who", ["contributor", "member", "validator", "auditor"])
def test_the_channel_target_is_masked_for_who_does_not_manage_it(request, channels, who):
    slack, mail = channels
    api = client_for(request.getfixturevalue(who))

    listed = {c["name"]: c for c in api.get("/api/v1/alert-channels/").json()["results"]}
    detail = api.get(f"/api/v1/alert-channels/{slack.pk}/").json()

    assert listed["risk-slack"]["target"] == "https://hooks.slack.com/\u2026"
    assert detail["target"] == "https://hooks.slack.com/\u2026" and detail["target_masked"]
    assert listed["risk-mail"]["target"] == "\u2026@example.org, \u2026@example.org"
    assert "s3cr3t" not in str(listed) + str(detail)


@pytest.mark.parametrize("who", ["manager", "administrator"])
def test_managers_and_administrators_see_the_whole_target(request, channels, who):
    slack, _ = channels
    detail = client_for(request.getfixturevalue(who)).get(f"/api/v1/alert-channels/{slack.pk}/")
    assert detail.json()["target"] == SLACK
    assert detail.json()["target_masked"] is False


def test_the_admin_masks_the_target_and_does_not_search_it(client, channels, auditor):
    """A staff auditor allowed to read channels in the admin sees the host, not the path,
    and cannot find the secret a character at a time through the search box."""
    slack, _ = channels
    auditor.is_staff = True
    auditor.save(update_fields=["is_staff"])
    auditor.user_permissions.add(Permission.objects.get(codename="view_alertchannel"))
    client.force_login(auditor)

    listing = client.get(reverse("admin:monitoring_alertchannel_changelist"))
    found = client.get(reverse("admin:monitoring_alertchannel_changelist") + "?q=B0RISK")
    page = client.get(reverse("admin:monitoring_alertchannel_change", args=[slack.pk]))

    for response in (listing, found, page):
        assert response.status_code == 200
        assert "s3cr3t" not in response.content.decode()
    assert "hooks.slack.com/\u2026" in page.content.decode()
    assert "risk-slack" not in found.content.decode()


def test_the_channel_target_is_kept_whole_in_the_admin_for_its_managers(client, channels):
    slack, _ = channels
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    page = client.get(reverse("admin:monitoring_alertchannel_change", args=[slack.pk]))
    assert SLACK in page.content.decode()
    assert AlertChannel.objects.get(pk=slack.pk).target == SLACK
