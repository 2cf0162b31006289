"""Alert channels, rules, and the alerts that check results and KPI values open, count and
resolve; acknowledging and resolving by hand; flagging a version in production."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.urls import reverse

from accounts.services.system import MONITOR_USERNAME
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.eventlog import audit_chain_verify
from core.models import AuditEvent
from governance.choices import Action
from governance.models import Decision
from monitoring.choices import (
    AlertState,
    ChannelKind,
    CheckKind,
    CheckStatus,
    DeliveryEvent,
    DeliveryStatus,
    Severity,
)
from monitoring.models import Alert, AlertChannel, AlertDelivery, AlertRule
from monitoring.services.alerts import (
    alert_acknowledge,
    alert_channel_create,
    alert_channel_update,
    alert_resolve,
    alert_rule_create,
    alert_rule_delete,
    alert_rule_update,
    alerts_evaluate_check,
    alerts_evaluate_kpi,
)
from monitoring.tests.factories import (
    AlertChannelFactory,
    AlertRuleFactory,
    CheckResultFactory,
    DeploymentFactory,
    KpiFactory,
    KpiValueFactory,
    ProductionVersionFactory,
)
from registry.choices import VersionStatus
from tests.factories import RegisteredModelFactory, UserFactory
from tests.services import require_postgres

pytestmark = pytest.mark.django_db
OK, WARNING, CRITICAL, UNKNOWN = (
    CheckStatus.OK,
    CheckStatus.WARNING,
    CheckStatus.CRITICAL,
    CheckStatus.UNKNOWN,
)


@pytest.fixture
def model(team):
    return RegisteredModelFactory(owner_team=team, name="credit-scoring")


@pytest.fixture
def deployment(model):
    return DeploymentFactory(
        name="credit-prod", model_version=ProductionVersionFactory(registered_model=model)
    )


@pytest.fixture
def rule(deployment):
    return AlertRuleFactory(name="drift critical", deployment=deployment)


def check(deployment, status, kind=CheckKind.DRIFT, **extra):
    """Store a result and evaluate it, as the check services do."""
    result = CheckResultFactory(deployment=deployment, kind=kind, status=status, **extra)
    return result, alerts_evaluate_check(result)


def unresolved(rule, deployment):
    return Alert.objects.exclude(state=AlertState.RESOLVED).get(rule=rule, deployment=deployment)


# --- Matching and the alert's life -----------------------------------------------------------


def test_it_applies_deployment_rules_and_model_rules_but_not_other_deployments_rules(
    model, deployment
):
    sibling = DeploymentFactory(
        name="credit-canary", model_version=ProductionVersionFactory(registered_model=model)
    )
    unrelated = DeploymentFactory(name="churn-prod")
    on_deployment = AlertRuleFactory(name="on deployment", deployment=deployment)
    on_model = AlertRuleFactory(name="on model", deployment=None, registered_model=model)
    elsewhere = AlertRuleFactory(name="elsewhere", deployment=unrelated)
    AlertRuleFactory(name="performance only", deployment=deployment, check_kind="performance")

    _, opened = check(deployment, CRITICAL)
    assert {a.rule for a in opened} == {on_deployment, on_model}
    _, opened = check(sibling, CRITICAL)
    assert [(a.rule, a.deployment) for a in opened] == [(on_model, sibling)]
    assert not Alert.objects.filter(rule=elsewhere).exists()


def test_it_counts_further_results_as_occurrences_of_one_unresolved_alert(rule, deployment):
    first, _ = check(deployment, CRITICAL)
    second, _ = check(deployment, CRITICAL, summary="still drifting")

    alert = unresolved(rule, deployment)
    assert alert.occurrences == 2
    assert alert.state == AlertState.OPEN
    assert alert.check_result == first
    assert alert.details["latest"]["check_result"] == second.pk
    assert alert.details["latest"]["summary"] == "still drifting"
    assert alert.last_seen_at >= alert.opened_at
    assert Alert.objects.count() == 1


def test_it_resolves_by_itself_when_a_later_result_no_longer_meets_the_rule(rule, deployment):
    check(deployment, CRITICAL)
    cleared, touched = check(deployment, WARNING)  # the rule wants critical

    alert = touched[0]
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED
    assert alert.resolved_by is None
    assert alert.resolution_note.startswith(f"Condition cleared by check #{cleared.pk}")
    assert AuditEvent.objects.filter(action="alert.resolve", actor_username=MONITOR_USERNAME)
    # The condition coming back opens a new alert.
    check(deployment, CRITICAL)
    assert Alert.objects.filter(rule=rule).count() == 2


def test_an_unknown_status_neither_opens_nor_resolves(rule, deployment):
    assert check(deployment, UNKNOWN)[1] == []
    check(deployment, CRITICAL)
    assert check(deployment, UNKNOWN)[1] == []
    assert unresolved(rule, deployment).occurrences == 1


def test_a_warning_rule_opens_on_warning_and_a_disabled_rule_never(deployment):
    warning = AlertRuleFactory(deployment=deployment, min_status=WARNING)
    disabled = AlertRuleFactory(deployment=deployment, enabled=False, min_status=WARNING)
    _, opened = check(deployment, WARNING)
    assert [a.rule for a in opened] == [warning]
    assert not disabled.alerts.exists()


def test_a_health_rule_with_a_threshold_watches_the_score(deployment):
    rule = AlertRuleFactory(deployment=deployment, check_kind=CheckKind.HEALTH, health_below=60)

    assert check(deployment, OK, kind=CheckKind.HEALTH, score=72.0)[1] == []
    _, opened = check(deployment, OK, kind=CheckKind.HEALTH, score=55.5)
    assert [a.rule for a in opened] == [rule]
    assert "55.5" in opened[0].title
    assert check(deployment, CRITICAL, kind=CheckKind.HEALTH, score=None)[1] == []
    check(deployment, WARNING, kind=CheckKind.HEALTH, score=61.0)
    assert rule.alerts.get().state == AlertState.RESOLVED


def test_a_kpi_rule_follows_the_values_of_its_kpi(deployment):
    kpi = KpiFactory(deployment=deployment, name="default-rate")
    other = KpiFactory(deployment=deployment, name="approval-rate")
    rule = AlertRuleFactory(deployment=deployment, check_kind=CheckKind.KPI, kpi=kpi)

    assert alerts_evaluate_kpi(KpiValueFactory(kpi=other, value=0.9, status=CRITICAL)) == []
    value = KpiValueFactory(kpi=kpi, value=0.25, status=CRITICAL)
    [alert] = alerts_evaluate_kpi(value)
    assert (alert.rule, alert.kpi_value) == (rule, value)
    assert "default-rate = 0.25" in alert.title
    # A drift result never touches a KPI rule.
    check(deployment, OK)
    alerts_evaluate_kpi(KpiValueFactory(kpi=kpi, value=0.01, status=OK))
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED
    assert "KPI value #" in alert.resolution_note


# --- Acknowledging and resolving by hand -----------------------------------------------------


@pytest.fixture
def alert(rule, deployment):
    return check(deployment, CRITICAL)[1][0]


def test_a_manager_acknowledges_then_resolves(alert, manager):
    alert_acknowledge(actor=manager, alert=alert, note="Looking into the upstream feed.")
    alert.refresh_from_db()
    assert (alert.state, alert.acknowledged_by) == (AlertState.ACKNOWLEDGED, manager)

    alert_resolve(actor=manager, alert=alert, note="Feed fixed, backfilled.")
    alert.refresh_from_db()
    assert (alert.state, alert.resolved_by) == (AlertState.RESOLVED, manager)
    assert alert.resolution_note == "Feed fixed, backfilled."
    actions = AuditEvent.objects.filter(subject_id=str(alert.pk), actor_username="max")
    assert sorted(actions.values_list("action", flat=True)) == [
        "alert.acknowledge",
        "alert.resolve",
    ]


def test_an_open_alert_can_be_resolved_without_acknowledging(alert, manager):
    alert_resolve(actor=manager, alert=alert, note="False alarm.")
    assert Alert.objects.get(pk=alert.pk).state == AlertState.RESOLVED


def test_a_validator_may_acknowledge_but_not_resolve(alert, validator):
    alert_acknowledge(actor=validator, alert=alert, note="")
    with pytest.raises(Forbidden):
        alert_resolve(actor=validator, alert=alert, note="Looks fine to me.")


def test_a_contributor_is_refused_and_an_outsider_does_not_see_the_alert(
    alert, contributor, outsider
):
    with pytest.raises(Forbidden):
        alert_acknowledge(actor=contributor, alert=alert, note="")
    with pytest.raises(Forbidden):
        alert_resolve(actor=contributor, alert=alert, note="Done.")
    with pytest.raises(NotFound):
        alert_acknowledge(actor=outsider, alert=alert, note="")
    with pytest.raises(NotFound):
        alert_resolve(actor=outsider, alert=alert, note="Done.")
    assert Alert.objects.get(pk=alert.pk).state == AlertState.OPEN


def test_a_second_acknowledgement_or_resolution_is_a_conflict(alert, manager, validator):
    alert_acknowledge(actor=validator, alert=alert, note="Mine.")
    with pytest.raises(Conflict, match="already acknowledged by vera"):
        alert_acknowledge(actor=manager, alert=alert, note="No, mine.")
    with pytest.raises(InvalidInput):
        alert_resolve(actor=manager, alert=alert, note="ok")
    alert_resolve(actor=manager, alert=alert, note="Fixed.")
    with pytest.raises(Conflict):
        alert_resolve(actor=manager, alert=alert, note="Fixed again.")
    with pytest.raises(Conflict):
        alert_acknowledge(actor=manager, alert=alert, note="")
    assert Alert.objects.get(pk=alert.pk).acknowledged_by == validator


# --- Flagging the version, delivering ---------------------------------------------------------


def test_a_critical_alert_of_a_flagging_rule_flags_the_version_in_production(deployment):
    AlertRuleFactory(deployment=deployment, flag_version=True, severity=Severity.WARNING)
    result, [alert] = check(deployment, CRITICAL)

    version = deployment.model_version
    version.refresh_from_db()
    assert version.status == VersionStatus.FLAGGED
    decision = Decision.objects.get(version=version, action=Action.FLAG)
    assert decision.actor.username == MONITOR_USERNAME
    assert f"alert #{alert.pk}" in decision.motivation
    assert f"check #{result.pk}" in decision.motivation
    event = AuditEvent.objects.get(action="version.flag")
    assert (event.actor_username, event.scope_version) == (MONITOR_USERNAME, version.natural_key)
    assert alert.details["flag_decision"] == decision.pk
    # Further occurrences do not decide again.
    check(deployment, CRITICAL)
    assert Decision.objects.filter(action=Action.FLAG).count() == 1


def test_a_warning_alert_does_not_flag(deployment):
    AlertRuleFactory(deployment=deployment, flag_version=True, min_status=WARNING)
    check(deployment, WARNING)
    deployment.model_version.refresh_from_db()
    assert deployment.model_version.status == VersionStatus.PRODUCTION


def test_opening_and_clearing_queue_deliveries_sent_after_the_commit(
    deployment, team, django_capture_on_commit_callbacks, mailoutbox
):
    enabled = AlertChannelFactory(owner_team=team, name="on-call")
    disabled = AlertChannelFactory(owner_team=team, name="old", enabled=False)
    rule = AlertRuleFactory(deployment=deployment, channels=[enabled, disabled])

    with django_capture_on_commit_callbacks() as callbacks:
        [alert] = check(deployment, CRITICAL)[1]
    delivery = AlertDelivery.objects.get()
    assert (delivery.alert, delivery.channel, delivery.event) == (
        alert,
        enabled,
        DeliveryEvent.OPENED,
    )
    assert delivery.status == DeliveryStatus.PENDING
    assert len(callbacks) == 1
    assert mailoutbox == []  # nothing is sent before the commit

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        check(deployment, CRITICAL)  # an occurrence: nothing to deliver
    assert callbacks == []
    with django_capture_on_commit_callbacks(execute=True):
        check(deployment, OK)
    events = dict(AlertDelivery.objects.values_list("event", "status"))
    assert events == {DeliveryEvent.OPENED: DeliveryStatus.PENDING, "resolved": "sent"}
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject.startswith("[Steward] [WARNING] Alert resolved")
    assert rule.name in mailoutbox[0].subject


# --- Channels and rules ----------------------------------------------------------------------


def test_managers_and_administrators_manage_channels_and_contributors_do_not(
    team, manager, administrator, contributor, outsider
):
    channel = alert_channel_create(
        actor=manager, owner_team=team, name="risk", kind=ChannelKind.EMAIL, target="a@x.org"
    )
    alert_channel_update(actor=administrator, channel=channel, target=" a@x.org , b@x.org ")
    channel.refresh_from_db()
    assert channel.target == "a@x.org, b@x.org"
    assert AuditEvent.objects.filter(action="alert_channel.update", actor_username="ada")
    with pytest.raises(Forbidden):
        alert_channel_create(
            actor=contributor, owner_team=team, name="mine", kind="email", target="c@x.org"
        )
    with pytest.raises(Forbidden):
        alert_channel_update(actor=contributor, channel=channel, enabled=False)
    with pytest.raises(NotFound):
        alert_channel_update(actor=outsider, channel=channel, enabled=False)


@pytest.mark.parametrize(
    ("kind", "target", "says"),
    [
        (ChannelKind.EMAIL, "not-an-address", "Not an e-mail address"),
        (ChannelKind.EMAIL, "a@x.org, nope", "nope"),
        (ChannelKind.WEBHOOK, "https://127.0.0.1/hook", "loopback"),
        (ChannelKind.SLACK, "http://hooks.slack.com/services/x", "https"),
        (ChannelKind.WEBHOOK, "https://169.254.169.254/latest/", "metadata"),
        ("pager", "x", "Unknown kind"),
    ],
)
def test_a_channel_target_is_checked(team, manager, kind, target, says):
    with pytest.raises(InvalidInput, match=says):
        alert_channel_create(actor=manager, owner_team=team, name="c", kind=kind, target=target)


def test_who_may_write_rules_and_what_a_rule_must_be(
    model, deployment, team, other_team, manager, contributor, outsider
):
    with pytest.raises(Forbidden):
        AlertRuleFactory(actor=contributor, deployment=deployment)
    with pytest.raises(NotFound):
        AlertRuleFactory(actor=outsider, deployment=deployment)
    with pytest.raises(InvalidInput, match="one deployment"):
        AlertRuleFactory(actor=manager, deployment=deployment, registered_model=model)
    with pytest.raises(InvalidInput, match="KPI"):
        AlertRuleFactory(actor=manager, deployment=deployment, check_kind=CheckKind.KPI)
    with pytest.raises(InvalidInput, match="health"):
        AlertRuleFactory(actor=manager, deployment=deployment, health_below=50)
    with pytest.raises(InvalidInput, match="0 to 100"):
        AlertRuleFactory(
            actor=manager, deployment=deployment, check_kind="health", health_below=150
        )
    foreign = AlertChannelFactory(owner_team=other_team)
    with pytest.raises(InvalidInput, match="another team"):
        AlertRuleFactory(actor=manager, deployment=deployment, channels=[foreign])

    rule = alert_rule_create(
        actor=manager, name="perf", deployment=deployment, check_kind=CheckKind.PERFORMANCE
    )
    alert_rule_update(actor=manager, rule=rule, min_status=WARNING, severity=Severity.CRITICAL)
    rule.refresh_from_db()
    assert (rule.min_status, rule.severity) == (WARNING, Severity.CRITICAL)
    with pytest.raises(InvalidInput):
        alert_rule_update(actor=manager, rule=rule, deployment=None)
    audit = AuditEvent.objects.filter(subject_type="monitoring.alertrule", actor_username="max")
    assert list(audit.values_list("action", flat=True).order_by("sequence")) == [
        "alert_rule.create",
        "alert_rule.update",
    ]


def test_a_rule_with_alerts_is_kept(rule, deployment, manager):
    check(deployment, CRITICAL)
    with pytest.raises(Conflict, match="disable"):
        alert_rule_delete(actor=manager, rule=rule)
    unused = AlertRuleFactory(deployment=deployment)
    alert_rule_delete(actor=manager, rule=unused)
    assert AuditEvent.objects.filter(action="alert_rule.delete").count() == 1


# --- The admin console -----------------------------------------------------------------------


@pytest.fixture
def superuser(client):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def test_the_admin_saves_channels_through_the_service_and_shows_its_refusals(
    client, superuser, team
):
    url = reverse("admin:monitoring_alertchannel_add")
    form = {"owner_team": team.pk, "name": "hook", "kind": "webhook", "enabled": "on"}

    response = client.post(url, {**form, "target": "https://169.254.169.254/latest/"})
    assert response.status_code == 200
    assert "cloud metadata" in response.content.decode()
    assert not AlertChannel.objects.exists()

    response = client.post(url, {**form, "kind": "email", "target": "risk@example.org"})
    assert response.status_code == 302
    channel = AlertChannel.objects.get()
    assert AuditEvent.objects.filter(action="alert_channel.create", actor_username="root")
    page = client.get(reverse("admin:monitoring_alertchannel_change", args=[channel.pk]))
    assert channel.signing_secret in page.content.decode()


def test_the_signing_secret_is_for_superusers_only(client, team, manager):
    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    manager.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_alertchannel", "change_alertchannel"])
    )
    channel = AlertChannelFactory(owner_team=team, kind=ChannelKind.EMAIL)
    client.force_login(manager)
    page = client.get(reverse("admin:monitoring_alertchannel_change", args=[channel.pk]))
    assert page.status_code == 200
    assert channel.signing_secret not in page.content.decode()


def test_the_admin_offers_the_rules_team_channels_and_saves_through_the_service(
    client, superuser, team, other_team, deployment
):
    ours = AlertChannelFactory(owner_team=team, name="ours")
    theirs = AlertChannelFactory(owner_team=other_team, name="theirs")
    url = reverse("admin:monitoring_alertrule_add")
    form = {
        "name": "drift",
        "deployment": deployment.pk,
        "check_kind": "drift",
        "min_status": "critical",
        "severity": "critical",
        "enabled": "on",
    }
    response = client.post(url, {**form, "channels": [theirs.pk]})
    assert response.status_code == 200
    assert "another team" in response.content.decode()

    response = client.post(url, {**form, "channels": [ours.pk]})
    assert response.status_code == 302
    rule = AlertRule.objects.get()
    assert list(rule.channels.all()) == [ours]
    page = client.get(reverse("admin:monitoring_alertrule_change", args=[rule.pk]))
    choices = page.context["adminform"].form.fields["channels"].queryset
    assert list(choices) == [ours]


def test_the_admin_acknowledges_and_resolves_with_a_note(client, superuser, alert):
    changelist = reverse("admin:monitoring_alert_changelist")
    chosen = {"_selected_action": [alert.pk], "index": 0}

    page = client.post(changelist, {**chosen, "action": "acknowledge_selected"})
    assert page.status_code == 200
    assert 'name="note"' in page.content.decode()
    client.post(changelist, {**chosen, "action": "acknowledge_selected", "apply": "1"})
    alert.refresh_from_db()
    assert (alert.state, alert.acknowledged_by) == (AlertState.ACKNOWLEDGED, superuser)

    page = client.post(changelist, {**chosen, "action": "resolve_selected", "apply": "1"})
    assert "at least 3 characters" in page.content.decode()
    response = client.post(
        changelist, {**chosen, "action": "resolve_selected", "apply": "1", "note": "Fixed."}
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert (alert.state, alert.resolution_note) == (AlertState.RESOLVED, "Fixed.")


# --- At the same time, on PostgreSQL ---------------------------------------------------------


def concurrently(count: int, work) -> list[object]:
    """Run ``work(n)`` in ``count`` threads released together; their outcomes (a value, a
    status code for a refusal, or an unexpected exception)."""
    start, lock, outcomes = threading.Barrier(count), threading.Lock(), []

    def run(n: int) -> None:
        try:
            start.wait()
            outcome: object = work(n)
        except Conflict as exc:
            outcome = exc.status_code
        except BaseException as exc:  # noqa: BLE001 - reported by the caller's assertion
            outcome = exc
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_people_acknowledging_at_once_record_one_acknowledgement(alert, manager):
    require_postgres()
    outcomes = concurrently(
        10, lambda n: alert_acknowledge(actor=manager, alert=alert, note=f"#{n}").state
    )
    assert outcomes.count(AlertState.ACKNOWLEDGED) == 1, outcomes
    assert outcomes.count(409) == 9, outcomes
    assert AuditEvent.objects.filter(action="alert.acknowledge").count() == 1
    assert audit_chain_verify().ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_results_evaluated_at_once_open_one_alert_and_count_the_rest(rule, deployment):
    """The one-unresolved-alert constraint turns the losers of the race into occurrences."""
    require_postgres()
    results = [CheckResultFactory(deployment=deployment, status=CRITICAL) for _ in range(6)]
    outcomes = concurrently(6, lambda n: len(alerts_evaluate_check(results[n])))
    assert outcomes == [1] * 6, outcomes
    alert = Alert.objects.get(rule=rule)
    assert alert.occurrences == 6
    assert AuditEvent.objects.filter(action="alert.open").count() == 1
