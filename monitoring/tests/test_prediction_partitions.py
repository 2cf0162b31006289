"""The prediction log's time partitions (PostgreSQL), retention and legal holds (both
databases), and the admin page of partitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from core.errors import Conflict, Forbidden, InvalidInput
from core.eventlog import audit_chain_verify
from core.models import AuditEvent, TaskRequest
from monitoring.choices import AlertState, CheckStatus
from monitoring.models import Alert, AlertEvent, Deployment, Prediction, PredictionKey
from monitoring.partitions import (
    DEFAULT,
    dropped_keys_remove,
    is_partitioned,
    partition_list,
    partitions_ensure,
    period_of,
)
from monitoring.services.alerts import alerts_evaluate_check
from monitoring.services.ingestion import predictions_ingest
from monitoring.services.retention import (
    deployment_legal_hold_set,
    deployment_retention_set,
    predictions_retention_apply,
)
from monitoring.tasks import remove_dropped_prediction_keys
from monitoring.tests.factories import AlertRuleFactory, CheckResultFactory, DeploymentFactory
from monitoring.tests.test_monitoring_services import (  # noqa: F401 - fixtures
    _records,
    live,
    version,
)
from tests.factories import UserFactory
from tests.services import require_postgres

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def log(deployment: Deployment, moments: list[datetime], prefix: str = "r") -> None:
    """Rows as ingestion writes them (test set-up: ingestion is tested on its own)."""
    Prediction.objects.bulk_create(
        [
            Prediction(
                deployment=deployment,
                request_id=f"{prefix}-{i}",
                predicted_at=moment,
                received_at=moment,
                inputs={"x": i},
                outputs={"y": 1},
            )
            for i, moment in enumerate(moments)
        ]
    )


def months_ago(n: int) -> datetime:
    start = period_of(NOW, "month")[0]
    for _ in range(n):
        start = period_of(start - timedelta(days=1), "month")[0]
    return start + timedelta(days=3)


@pytest.fixture
def administrator_user(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


# --- migration ---------------------------------------------------------------------------------

BEFORE = ("monitoring", "0002_prediction_numeric_inputs")
AFTER = ("monitoring", "0003_prediction_partitions_retention_legal_hold")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_migration_partitions_a_populated_log_without_losing_a_row():
    require_postgres()
    deployment = DeploymentFactory()
    old_moments = [months_ago(14), months_ago(2), NOW - timedelta(hours=1)]
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    assert not is_partitioned()
    with connection.cursor() as cursor:
        for i in range(300):
            cursor.execute(
                "INSERT INTO monitoring_prediction (id, deployment_id, request_id, predicted_at,"
                " received_at, inputs, outputs, protected, ground_truth) VALUES "
                "(%s, %s, %s, %s, %s, '{}', '{}', '{}', %s)",
                [
                    1000 + i,
                    deployment.pk,
                    f"old-{i}",
                    old_moments[i % 3],
                    NOW,
                    '"yes"' if i % 2 else None,
                ],
            )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([AFTER])
    assert is_partitioned()
    assert Prediction.objects.count() == 300
    assert set(Prediction.objects.values_list("id", flat=True)) == set(range(1000, 1300))
    assert Prediction.objects.filter(ground_truth="yes").count() == 150
    assert PredictionKey.objects.count() == 300
    # Every row sits in the partition of its month, none in the default one.
    names = {p.name for p in partition_list()}
    assert f"monitoring_prediction_p{period_of(old_moments[0], 'month')[0]:%Y%m%d}" in names
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {DEFAULT}")
        assert cursor.fetchone()[0] == 0
    # Ids continue after the highest kept one, and request ids stay unique per deployment.
    log(deployment, [NOW - timedelta(minutes=5)], prefix="new")
    assert Prediction.objects.get(request_id="new-0").pk > 1299
    with pytest.raises(IntegrityError), transaction.atomic():
        log(deployment, [months_ago(1)], prefix="old")
    assert Prediction.objects.count() == 301
    # And back: one plain table with every row.
    MigrationExecutor(connection).migrate([BEFORE])
    assert not is_partitioned()
    assert Prediction.objects.count() == 301
    MigrationExecutor(connection).migrate([AFTER])
    assert is_partitioned() and Prediction.objects.count() == 301
    # Forward to the latest migration again: the tests after this one need every table.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("monitoring"))
    assert AlertEvent.objects.count() == 0


# --- partitions ----------------------------------------------------------------------------------


@pytest.mark.postgres
def test_window_queries_read_only_the_partitions_of_their_window():
    require_postgres()
    deployment = DeploymentFactory()
    partitions_ensure()
    start, end = NOW - timedelta(hours=24), NOW
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN SELECT count(*), string_agg(numeric_inputs, ''::bytea) "
            "FROM monitoring_prediction "
            "WHERE deployment_id = %s AND predicted_at >= %s AND predicted_at < %s",
            [deployment.pk, start, end],
        )
        plan = "\n".join(r[0] for r in cursor.fetchall())
    touched = {p.name for p in partition_list() if p.name in plan}
    wanted = {
        p.name for p in partition_list() if not p.is_default and p.start < end and start < p.end
    }
    assert touched == wanted, plan
    assert DEFAULT not in plan  # the window is covered: the default partition is pruned too


@pytest.mark.postgres
def test_ensure_creates_partitions_ahead_and_moves_stranded_rows_out_of_the_default():
    require_postgres()
    deployment = DeploymentFactory()
    long_ago = datetime(2019, 5, 17, 12, tzinfo=UTC)
    log(deployment, [long_ago, long_ago + timedelta(hours=1)], prefix="backfill")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {DEFAULT}")
        assert cursor.fetchone()[0] == 2
    created = partitions_ensure(now=NOW + timedelta(days=200))
    assert "monitoring_prediction_p20190501" in created
    assert partitions_ensure(now=NOW + timedelta(days=200)) == []  # idempotent
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {DEFAULT}")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM ONLY monitoring_prediction_p20190501")
        assert cursor.fetchone()[0] == 2
    assert PredictionKey.objects.filter(deployment=deployment).count() == 2
    last = max(p.end for p in partition_list() if not p.is_default)
    assert last >= period_of(NOW + timedelta(days=200), "month")[1]


@pytest.mark.postgres
def test_a_retried_batch_is_still_refused_by_request_id_on_the_partitioned_log():
    require_postgres()
    deployment = DeploymentFactory()
    log(deployment, [months_ago(3)], prefix="same")
    with pytest.raises(IntegrityError), transaction.atomic():
        log(deployment, [NOW - timedelta(hours=1)], prefix="same")  # another month
    other = DeploymentFactory()
    log(other, [NOW - timedelta(hours=1)], prefix="same")  # another deployment may
    Prediction.objects.filter(deployment=deployment).delete()
    log(deployment, [NOW - timedelta(hours=1)], prefix="same")  # its key went with it
    assert Prediction.objects.filter(request_id="same-0").count() == 2


# --- retention ---------------------------------------------------------------------------------


@pytest.fixture
def retention(settings):
    settings.STEWARD_PREDICTION_RETENTION_DAYS = 90


def test_retention_removes_expired_predictions_and_audits_it(retention):
    expired, kept = DeploymentFactory(), DeploymentFactory()
    log(expired, [months_ago(8), months_ago(8) + timedelta(hours=2), NOW - timedelta(hours=1)])
    log(kept, [months_ago(8)])
    deployment_retention_set(
        actor=UserFactory(is_superuser=True),
        deployment=kept,
        days=365,
        reason="Regulator asks for a year.",
    )
    partitions_ensure()
    outcome = predictions_retention_apply()
    # The partition of 8 months ago holds rows of a deployment that keeps them for a year:
    # on PostgreSQL it stays whole; row by row elsewhere, only the expired deployment's go.
    left = set(Prediction.objects.values_list("deployment__name", "predicted_at"))
    assert (kept.name, months_ago(8)) in left
    assert (expired.name, NOW - timedelta(hours=1)) in left
    if is_partitioned():
        assert outcome.dropped == []
        assert any(kept.name in " ".join(k["reasons"]) for k in outcome.kept)
        Deployment.objects.filter(pk=kept.pk).update(retention_days=30)
        outcome = predictions_retention_apply()
        assert [d["rows"] for d in outcome.dropped] == [3]
        assert PredictionKey.objects.count() == 4  # until the task the drop asked for
        dropped_keys_remove()
        event = AuditEvent.objects.get(action="prediction.partition_drop")
        assert event.data["rows"] == 3
        assert event.data["deployments"] == {expired.name: 2, kept.name: 1}
        assert event.data["start"] == period_of(months_ago(8), "month")[0].isoformat()
        assert Prediction.objects.count() == 1
        assert PredictionKey.objects.count() == 1
    else:
        assert outcome.deleted == [outcome.deleted[0]] and outcome.deleted[0]["rows"] == 2
        event = AuditEvent.objects.get(action="prediction.retention_delete")
        assert event.data["rows"] == 2 and event.data["deployment"] == expired.name
        assert Prediction.objects.count() == 2
    assert predictions_retention_apply().rows_removed == 0  # nothing more to remove
    assert audit_chain_verify().ok


@pytest.mark.postgres
def test_the_keys_of_a_dropped_month_go_after_the_drop_and_its_ids_stay_refused_until_then(
    retention,
    live,  # noqa: F811 - the fixture
    gateway,
    django_capture_on_commit_callbacks,
):
    """Dropping a partition leaves its rows' request-id keys to a task run after the commit:
    until it runs those ids are refused as duplicates (as while the rows were there); it then
    removes them, and only them (a row logged into the dropped month meanwhile keeps its key),
    in batches, and a second run finds nothing."""
    require_postgres()
    rng = np.random.default_rng(19)

    def ingest(prefix: str, start: datetime, n: int = 1):
        records = _records(n, rng, prefix=prefix, start=start)
        return predictions_ingest(actor=gateway, deployment=live, records=records)

    assert ingest("old", months_ago(8), 3).accepted == 3
    assert ingest("new", NOW - timedelta(hours=1)).accepted == 1
    partitions_ensure()
    with django_capture_on_commit_callbacks() as callbacks:
        outcome = predictions_retention_apply()
    assert [d["rows"] for d in outcome.dropped] == [3]
    assert TaskRequest.objects.filter(task="monitoring.remove_dropped_prediction_keys").exists()
    keys = PredictionKey.objects.filter(deployment=live)
    assert keys.count() == 4  # the dropped rows' keys wait for the task
    again = ingest("old", NOW - timedelta(minutes=30))
    assert (again.accepted, again.duplicates) == (0, 1)
    assert ingest("late", months_ago(8) + timedelta(hours=5)).accepted == 1  # into the default
    assert dropped_keys_remove(batch=2) == 3
    assert set(keys.values_list("request_id", flat=True)) == {"new-0", "late-0"}
    assert len(callbacks) == 1
    callbacks[0]()  # the task the drop asked for: nothing left to do
    assert remove_dropped_prediction_keys() == 0
    assert ingest("old", NOW - timedelta(minutes=30)).accepted == 1  # the id is free again


def test_a_legal_hold_and_the_evidence_of_an_open_alert_keep_expired_predictions(retention):
    held, alerted = DeploymentFactory(), DeploymentFactory()
    log(held, [months_ago(6)])
    log(alerted, [months_ago(5)])
    deployment_legal_hold_set(
        actor=UserFactory(is_superuser=True),
        deployment=held,
        hold=True,
        reason="Litigation 2026-17.",
    )
    AlertRuleFactory(deployment=alerted)
    result = CheckResultFactory(
        deployment=alerted,
        status=CheckStatus.CRITICAL,
        window_start=months_ago(5) - timedelta(days=1),
        window_end=months_ago(5) + timedelta(days=1),
    )
    alerts_evaluate_check(result)
    assert Alert.objects.filter(deployment=alerted, state=AlertState.OPEN).exists()
    partitions_ensure()
    outcome = predictions_retention_apply()
    assert outcome.rows_removed == 0
    assert Prediction.objects.count() == 2
    # The alert resolved, its evidence may go; the hold still keeps the other's.
    Alert.objects.filter(deployment=alerted).update(state=AlertState.RESOLVED)
    outcome = predictions_retention_apply()
    assert outcome.rows_removed == 1
    assert list(Prediction.objects.values_list("deployment", flat=True)) == [held.pk]


def test_only_an_administrator_sets_a_legal_hold_with_a_reason_and_it_is_audited(
    administrator_user, manager
):
    deployment = DeploymentFactory()
    with pytest.raises(Forbidden):
        deployment_legal_hold_set(actor=manager, deployment=deployment, hold=True, reason="x")
    with pytest.raises(InvalidInput):
        deployment_legal_hold_set(
            actor=administrator_user, deployment=deployment, hold=True, reason="  "
        )
    deployment = deployment_legal_hold_set(
        actor=administrator_user, deployment=deployment, hold=True, reason="Audit by the bank."
    )
    assert (deployment.legal_hold, deployment.legal_hold_by) == (True, administrator_user)
    with pytest.raises(Conflict):
        deployment_legal_hold_set(
            actor=administrator_user, deployment=deployment, hold=True, reason="Again."
        )
    deployment_legal_hold_set(
        actor=administrator_user, deployment=deployment, hold=False, reason="Case closed."
    )
    events = list(
        AuditEvent.objects.filter(action__startswith="deployment.legal_hold").order_by("sequence")
    )
    assert [e.action for e in events] == ["deployment.legal_hold", "deployment.legal_hold_release"]
    assert events[1].data["previous"]["reason"] == "Audit by the bank."
    with pytest.raises(Forbidden):
        deployment_retention_set(actor=manager, deployment=deployment, days=1, reason="x")
    with pytest.raises(InvalidInput):
        deployment_retention_set(
            actor=administrator_user, deployment=deployment, days=0, reason="x"
        )
    deployment.refresh_from_db()
    assert deployment.retention_days is None


# --- admin ---------------------------------------------------------------------------------------


def test_the_admin_shows_partitions_and_retention_to_administrators_only(
    client, administrator_user, manager
):
    deployment = DeploymentFactory()
    log(deployment, [NOW - timedelta(hours=1)])
    partitions_ensure()
    url = reverse("admin:monitoring_predictionpartition_changelist")
    client.force_login(manager)
    assert client.get(url).status_code in (302, 403)
    client.force_login(administrator_user)
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert deployment.name in html
    if is_partitioned():
        assert f"monitoring_prediction_p{period_of(NOW, 'month')[0]:%Y%m%d}" in html
        assert "monitoring_prediction_default" in html
    else:
        assert "retention deletes its expired rows by time" in html


def test_the_daily_task_creates_partitions_and_applies_retention(retention):
    from monitoring.tasks import maintain_prediction_log

    deployment = DeploymentFactory()
    log(deployment, [months_ago(9), NOW - timedelta(hours=2)])
    done = maintain_prediction_log()
    assert done["rows_removed"] == 1
    assert list(Prediction.objects.values_list("request_id", flat=True)) == ["r-1"]
    if is_partitioned():
        assert done["partitions_dropped"] == [
            f"monitoring_prediction_p{period_of(months_ago(9), 'month')[0]:%Y%m%d}"
        ]
    assert maintain_prediction_log()["rows_removed"] == 0
