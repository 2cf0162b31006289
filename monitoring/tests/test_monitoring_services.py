"""Deployments, prediction logging, ground truth, baselines and checks, through the services."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.db import IntegrityError
from django.utils import timezone

from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.models import AuditEvent
from governance.models import Decision
from monitoring.choices import CheckKind, CheckStatus, DeploymentStatus
from monitoring.models import Prediction
from monitoring.services.baselines import baseline_create
from monitoring.services.checks import checks_run
from monitoring.services.deployments import deployment_create, deployment_retire
from monitoring.services.ingestion import predictions_feedback, predictions_ingest
from monitoring.tests.factories import validation_record_make
from registry.choices import VersionStatus
from registry.models import LineageEdge
from tests.factories import ModelVersionFactory, RegisteredModelFactory, version_decide

pytestmark = pytest.mark.django_db

INPUT_SCHEMA = {
    "type": "tabular",
    "columns": [
        {"name": "income", "type": "float64"},
        {"name": "age", "type": "float64"},
        {"name": "segment", "type": "string"},
    ],
}
OUTPUT_SCHEMA = {
    "columns": [
        {"name": "label", "type": "int64", "labels": ["no", "yes"]},
        {"name": "probabilities", "type": "float64", "shape": [2]},
    ]
}


@pytest.fixture
def version(team):
    model = RegisteredModelFactory(owner_team=team, name="credit-scoring")
    version = ModelVersionFactory(
        registered_model=model,
        input_schema=INPUT_SCHEMA,
        output_schema=OUTPUT_SCHEMA,
        metrics={"auc": 0.90, "accuracy": 0.85},
    )
    return version


def _with_status(version, status):
    # Test setup only: the governance workflow is tested on its own.
    type(version).objects.filter(pk=version.pk).update(status=status)
    version.refresh_from_db()
    return version


def _rows(n, rng, *, shift=0.0, segments=("a", "b", "c"), p=(0.5, 0.3, 0.2)):
    income = rng.normal(50_000 + shift * 15_000, 15_000, n)
    age = rng.normal(40, 10, n)
    segment = rng.choice(segments, size=n, p=p)
    return income, age, segment


def _records(n, rng, *, prefix="r", start=None, shift=0.0, protected=False):
    start = start or timezone.now() - timedelta(hours=2)
    income, age, segment = _rows(n, rng, shift=shift)
    records = []
    for i in range(n):
        score = 1 / (1 + np.exp(-(income[i] - 50_000) / 15_000))
        record = {
            "request_id": f"{prefix}-{i}",
            "predicted_at": (start + timedelta(seconds=i)).isoformat(),
            "inputs": {
                "income": float(income[i]),
                "age": float(age[i]),
                "segment": str(segment[i]),
            },
            "outputs": {"label": int(score > 0.5), "probabilities": [1 - score, score]},
            "latency_ms": 12.5,
        }
        if protected:
            record["protected"] = {"sex": "f" if i % 2 else "m"}
        records.append(record)
    return records


WHY = "Evidence reviewed; metrics and data checked."


def approve(version, contributor, validator, manager):
    """Walk the real workflow to 'approved' (separation of duties and guards included)."""
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
def live(version, contributor, validator, manager):
    approve(version, contributor, validator, manager)
    return deployment_create(
        actor=manager,
        version=version,
        name="credit-prod",
        environment="production",
        mode="live",
        description="Replaces the rule-based scorecard.",
    )


def test_it_deploys_an_approved_version_live_and_puts_it_in_production(live, version, manager):
    version.refresh_from_db()
    assert version.status == VersionStatus.PRODUCTION
    promote = Decision.objects.get(version=version, action="promote")
    assert promote.actor == manager
    assert promote.motivation == "Replaces the rule-based scorecard."
    assert live.traffic_percent == 100
    assert LineageEdge.objects.filter(
        source__kind="model_version",
        target__kind="deployment",
        target__key="credit-prod",
        relation="deployed_as",
    ).exists()
    assert AuditEvent.objects.filter(action="deployment.create").exists()


@pytest.mark.parametrize(
    ("status", "mode", "allowed"),
    [
        (VersionStatus.VALIDATED, "live", False),
        (VersionStatus.VALIDATED, "canary", False),
        (VersionStatus.VALIDATED, "shadow", True),
        (VersionStatus.VALIDATED, "warm_up", True),
        (VersionStatus.IN_VALIDATION, "shadow", False),
        (VersionStatus.DRAFT, "warm_up", False),
        (VersionStatus.APPROVED, "canary", True),
        (VersionStatus.PRODUCTION, "canary", True),
        (VersionStatus.PRODUCTION, "live", True),
        (VersionStatus.FLAGGED, "live", False),
        (VersionStatus.FLAGGED, "canary", False),
    ],
)
def test_it_enforces_the_workflow_gate_in_production(version, manager, status, mode, allowed):
    _with_status(version, status)
    if status in (VersionStatus.APPROVED, VersionStatus.PRODUCTION):
        validation_record_make(version, promoted=status == VersionStatus.PRODUCTION)
    kwargs = {
        "actor": manager,
        "version": version,
        "name": "d1",
        "environment": "production",
        "mode": mode,
        "traffic_percent": 10 if mode == "canary" else None,
    }
    if allowed:
        assert deployment_create(**kwargs).mode == mode
    else:
        with pytest.raises(Conflict):
            deployment_create(**kwargs)


@pytest.mark.parametrize("status", [VersionStatus.APPROVED, VersionStatus.PRODUCTION])
@pytest.mark.parametrize(("mode", "traffic"), [("canary", 1), ("live", None)])
def test_serving_production_traffic_needs_a_validation_record(
    version, manager, status, mode, traffic
):
    """A status alone (no sign-offs, never validated) serves no production traffic, at any
    share; shadow watches without serving."""
    _with_status(version, status)
    with pytest.raises(Conflict, match="Independent sign-offs: 0 of 1") as refused:
        deployment_create(
            actor=manager,
            version=version,
            name="d1",
            environment="production",
            mode=mode,
            traffic_percent=traffic,
        )
    assert "The version was never validated" in str(refused.value)
    shadow = deployment_create(
        actor=manager, version=version, name="d2", environment="production", mode="shadow"
    )
    assert shadow.mode == "shadow"


def test_a_canary_of_an_approved_version_promotes_it(version, manager):
    _with_status(version, VersionStatus.APPROVED)
    validation_record_make(version, promoted=False)
    deployment_create(
        actor=manager,
        version=version,
        name="c",
        environment="production",
        mode="canary",
        traffic_percent=5,
    )
    version.refresh_from_db()
    assert version.status == VersionStatus.PRODUCTION
    promote = Decision.objects.get(version=version, action="promote")
    assert promote.motivation == "Deployed as a canary on 5 % of the traffic in production as 'c'."


def test_it_lets_a_draft_run_in_staging(version, manager):
    assert (
        deployment_create(
            actor=manager, version=version, name="s", environment="staging", mode="live"
        ).environment
        == "staging"
    )


def test_it_refuses_deploying_without_the_deploy_verb(version, contributor, outsider):
    _with_status(version, VersionStatus.APPROVED)
    with pytest.raises(Forbidden):
        deployment_create(
            actor=contributor, version=version, name="x", environment="production", mode="live"
        )
    with pytest.raises(NotFound):
        deployment_create(
            actor=outsider, version=version, name="x", environment="production", mode="live"
        )


def test_it_validates_canary_traffic(version, manager):
    _with_status(version, VersionStatus.APPROVED)
    with pytest.raises(InvalidInput):
        deployment_create(
            actor=manager, version=version, name="c", environment="production", mode="canary"
        )
    with pytest.raises(InvalidInput):
        deployment_create(
            actor=manager,
            version=version,
            name="c",
            environment="production",
            mode="shadow",
            traffic_percent=20,
        )


def test_it_replaces_and_retires(live, version, contributor, validator, manager, gateway):
    v2 = approve(
        ModelVersionFactory(
            registered_model=version.registered_model,
            input_schema=INPUT_SCHEMA,
            output_schema=OUTPUT_SCHEMA,
        ),
        contributor,
        validator,
        manager,
    )
    new = deployment_create(
        actor=manager,
        version=v2,
        name="credit-prod-2",
        environment="production",
        mode="live",
        replaces=live,
    )
    live.refresh_from_db()
    assert live.status == DeploymentStatus.RETIRED
    assert live.retired_reason == "Replaced by credit-prod-2."
    assert live.retired_by == manager
    assert new.replaces == live
    with pytest.raises(Conflict):
        deployment_retire(actor=manager, deployment=live, reason="Already retired, again.")
    with pytest.raises(InvalidInput):
        deployment_retire(actor=manager, deployment=new, reason="no")
    deployment_retire(actor=manager, deployment=new, reason="Business line closed for good.")
    with pytest.raises(Conflict):
        predictions_ingest(
            actor=gateway, deployment=new, records=_records(1, np.random.default_rng(0))
        )


def test_retiring_resolves_its_open_alerts(live, manager):
    from monitoring.models import Alert
    from monitoring.services.alerts import alert_rule_create

    rule = alert_rule_create(actor=manager, name="drift", check_kind="drift", deployment=live)
    now = timezone.now()
    alert = Alert.objects.create(
        rule=rule,
        deployment=live,
        severity="warning",
        title="Drift",
        opened_at=now,
        last_seen_at=now,
    )
    deployment_retire(actor=manager, deployment=live, reason="Replaced by the new scorecard.")
    alert.refresh_from_db()
    assert alert.state == "resolved"
    assert alert.resolved_by == manager
    assert alert.resolution_note == "Deployment retired: Replaced by the new scorecard."


def test_it_keeps_good_records_and_reports_bad_ones(live, gateway):
    rng = np.random.default_rng(1)
    records = _records(5, rng)
    records[1]["inputs"]["income"] = "lots"
    records[2]["outputs"]["label"] = 7
    del records[3]["request_id"]
    records.append({"request_id": "x", "inputs": {}, "outputs": {}, "surprise": 1})
    records.append("not an object")
    result = predictions_ingest(actor=gateway, deployment=live, records=records)
    assert result.accepted == 2
    assert [r["index"] for r in result.rejected] == [1, 2, 3, 5, 6]
    assert "inputs: 'income' must be a number" in result.rejected[0]["errors"]
    assert any("must be one of" in e for e in result.rejected[1]["errors"])
    assert any("unknown fields: surprise" in e for e in result.rejected[3]["errors"])
    assert set(Prediction.objects.values_list("request_id", flat=True)) == {"r-0", "r-4"}


def test_it_is_idempotent_by_request_id(live, gateway):
    records = _records(10, np.random.default_rng(2))
    first = predictions_ingest(actor=gateway, deployment=live, records=records)
    again = predictions_ingest(actor=gateway, deployment=live, records=records + records[:2])
    assert (first.accepted, first.duplicates) == (10, 0)
    assert (again.accepted, again.duplicates) == (0, 12)
    assert Prediction.objects.count() == 10


def test_a_batch_colliding_with_a_concurrent_one_logs_only_its_new_rows(live, gateway, monkeypatch):
    """PostgreSQL's COPY path, its logic on either database: the log is a set of request ids
    that refuses a duplicate. Two ids were logged before; a concurrent batch logs a third
    while ours is on its way. Each retry leaves out what is logged by then."""
    from monitoring.services import ingestion

    records = _records(6, np.random.default_rng(3))
    ids = [r["request_id"] for r in records]
    logged, calls = set(ids[:2]), []

    def copy(deployment, rows, now):
        calls.append([row[0] for row in rows])
        if len(calls) == 1:
            logged.add(ids[2])  # the concurrent batch commits first
        if logged & set(calls[-1]):
            raise IntegrityError("duplicate key value violates unique constraint")
        logged.update(calls[-1])

    monkeypatch.setattr(ingestion, "connection", _PretendPostgres())
    monkeypatch.setattr(ingestion, "_copy", copy)
    monkeypatch.setattr(
        ingestion, "_existing_request_ids", lambda deployment, wanted: logged & set(wanted)
    )
    result = predictions_ingest(actor=gateway, deployment=live, records=records)
    assert (result.accepted, result.duplicates) == (3, 3)
    assert calls == [ids, ids[3:]]
    assert logged == set(ids)


def test_a_batch_that_keeps_colliding_is_refused_whole_with_a_409(live, gateway, monkeypatch):
    from monitoring.services import ingestion

    def colliding_copy(deployment, rows, now):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(ingestion, "connection", _PretendPostgres())
    monkeypatch.setattr(ingestion, "_copy", colliding_copy)
    with pytest.raises(Conflict, match="Send it again"):
        predictions_ingest(
            actor=gateway, deployment=live, records=_records(3, np.random.default_rng(4))
        )
    assert Prediction.objects.count() == 0


class _PretendPostgres:
    """Ingestion's COPY path on either test database (``_copy`` itself is replaced)."""

    vendor = "postgresql"


def test_it_refuses_batches_it_cannot_read(live, gateway, contributor, manager, member, outsider):
    for bad in (None, {}, [], "x"):
        with pytest.raises(InvalidInput):
            predictions_ingest(actor=gateway, deployment=live, records=bad)
    # Production evidence is the gateway's to log: not a member's, the model's developer's
    # or its deployer's.
    for someone in (member, contributor, manager):
        with pytest.raises(Forbidden, match="Only a serving gateway logs"):
            predictions_ingest(
                actor=someone, deployment=live, records=_records(1, np.random.default_rng(0))
            )
    with pytest.raises(NotFound):
        predictions_ingest(
            actor=outsider, deployment=live, records=_records(1, np.random.default_rng(0))
        )
    assert Prediction.objects.count() == 0


def test_it_joins_ground_truth_by_request_id(live, gateway):
    predictions_ingest(
        actor=gateway, deployment=live, records=_records(3, np.random.default_rng(3))
    )
    result = predictions_feedback(
        actor=gateway,
        deployment=live,
        records=[
            {"request_id": "r-0", "ground_truth": 1},
            {"request_id": "r-1", "ground_truth": "yes"},
            {"request_id": "nope", "ground_truth": 0},
            {"request_id": "r-2"},
        ],
    )
    assert result.updated == 2
    assert result.unknown == ["nope"]
    assert result.rejected[0]["index"] == 3
    again = predictions_feedback(
        actor=gateway,
        deployment=live,
        records=[
            {"request_id": "r-0", "ground_truth": 1},
            {"request_id": "r-1", "ground_truth": 0},
        ],
    )
    assert again.unchanged == 1
    assert again.rejected[0]["errors"] == ["a different ground truth is already recorded for it"]
    assert Prediction.objects.get(request_id="r-1").ground_truth == "yes"


def _baseline(version, actor, rng, n=5000):
    income, age, segment = _rows(n, rng)
    labels = (income > 50_000).astype(int)
    rows = [
        {"income": float(a), "age": float(b), "segment": str(c), "label": int(d)}
        for a, b, c, d in zip(income, age, segment, labels, strict=True)
    ]
    return baseline_create(actor=actor, version=version, rows=rows, source_label="test")


def test_it_profiles_a_baseline_once(live, version, validator):
    baseline = _baseline(version, validator, np.random.default_rng(4))
    assert baseline.row_count == 5000
    assert set(baseline.inputs["features"]) == {"income", "age", "segment"}
    assert baseline.inputs["features"]["segment"]["kind"] == "categorical"
    assert set(baseline.outputs["features"]) == {"label"}
    with pytest.raises(InvalidInput):
        baseline_create(actor=validator, version=version, rows=[{"age": 1}])


def _window(live):
    end = timezone.now()
    return {"deployment": live, "window_start": end - timedelta(hours=24), "window_end": end}


def test_it_detects_an_injected_shift_and_not_a_stable_stream(live, version, validator, gateway):
    _baseline(version, validator, np.random.default_rng(5))
    predictions_ingest(
        actor=gateway, deployment=live, records=_records(3000, np.random.default_rng(6))
    )
    stable = {r.kind: r for r in checks_run(**_window(live))}
    assert stable[CheckKind.DRIFT].status == CheckStatus.OK, stable[CheckKind.DRIFT].summary
    assert stable[CheckKind.DRIFT].details["drifted_features"] == []

    Prediction.objects.all().delete()
    predictions_ingest(
        actor=gateway,
        deployment=live,
        records=_records(3000, np.random.default_rng(7), shift=1.0, prefix="s"),
    )
    drifted = {r.kind: r for r in checks_run(**_window(live))}
    assert drifted[CheckKind.DRIFT].status in (CheckStatus.WARNING, CheckStatus.CRITICAL)
    assert drifted[CheckKind.DRIFT].details["drifted_features"] == ["income"]
    assert "income" in drifted[CheckKind.DRIFT].summary
    assert drifted[CheckKind.DRIFT].details["features"]["income"]["psi"] > 0.2
    assert drifted[CheckKind.HEALTH].score < stable[CheckKind.HEALTH].score


def test_it_is_idempotent_per_window(live, version, validator, gateway):
    _baseline(version, validator, np.random.default_rng(8))
    predictions_ingest(
        actor=gateway, deployment=live, records=_records(200, np.random.default_rng(9))
    )
    window = _window(live)
    first = checks_run(**window)
    second = checks_run(**window)
    assert [r.pk for r in first] == [r.pk for r in second]
    assert len(first) == 5


def test_it_measures_performance_and_bias_when_it_can(live, version, gateway):
    rng = np.random.default_rng(10)
    records = _records(400, rng, protected=True)
    predictions_ingest(actor=gateway, deployment=live, records=records)
    truth = [
        {
            "request_id": r["request_id"],
            "ground_truth": r["outputs"]["label"] if i % 5 else 1 - r["outputs"]["label"],
        }
        for i, r in enumerate(records)
    ]
    predictions_feedback(actor=gateway, deployment=live, records=truth)
    results = {r.kind: r for r in checks_run(**_window(live))}
    performance = results[CheckKind.PERFORMANCE]
    assert performance.details["metrics"]["accuracy"] == pytest.approx(0.8)
    assert performance.details["labelled"] == 400
    # accuracy 0.80 against 0.85 at validation is a warning; the AUC of these scores against
    # truth flipped for one in five falls further, which makes it critical.
    assert performance.status == CheckStatus.CRITICAL
    assert "auc 0.763 vs 0.9 at validation" in performance.summary
    bias = results[CheckKind.BIAS]
    assert set(bias.details["attributes"]) == {"sex"}
    assert results[CheckKind.DRIFT].status == CheckStatus.UNKNOWN  # no baseline yet
    assert "No baseline" in results[CheckKind.DRIFT].summary


def test_it_says_unknown_without_predictions(live):
    results = {r.kind: r for r in checks_run(**_window(live))}
    assert results[CheckKind.PERFORMANCE].status == CheckStatus.UNKNOWN
    assert results[CheckKind.HEALTH].status == CheckStatus.UNKNOWN


def test_the_stored_vectors_read_as_the_json_does(live, gateway):
    """Checks read numeric inputs from the float64 vectors ingestion stores; the window must be
    the same as reading the JSON (which is what a prediction without a vector falls back to)."""
    from monitoring.schema import schema_columns
    from monitoring.window import window_columns

    records = _records(300, np.random.default_rng(11))
    records[5]["inputs"]["income"] = 7  # an integer is a number too
    records[6]["inputs"]["segment"] = "odd\x1fname"  # holds the separator of the fast read
    predictions_ingest(actor=gateway, deployment=live, records=records)
    columns = schema_columns(INPUT_SCHEMA)
    end = timezone.now()
    window = {"start": end - timedelta(days=1), "end": end, "inputs": columns, "outputs": []}
    from_vectors = window_columns(live, **window)
    Prediction.objects.update(numeric_inputs=None)  # test only: as if logged without a schema
    from_json = window_columns(live, **window)
    assert from_vectors.row_count == from_json.row_count == 300
    for name in ("income", "age"):
        assert np.array_equal(np.sort(from_vectors.inputs[name]), np.sort(from_json.inputs[name]))
    assert sorted(from_vectors.inputs["segment"]) == sorted(from_json.inputs["segment"])
    assert 7.0 in from_vectors.inputs["income"]
    assert "odd\x1fname" in list(from_vectors.inputs["segment"])


def test_it_refuses_times_it_cannot_place(live, gateway):
    records = _records(4, np.random.default_rng(12))
    records[0]["predicted_at"] = (timezone.now() + timedelta(hours=1)).isoformat()
    records[1]["predicted_at"] = "2026-01-31T12:00:00"  # no time zone
    records[2]["predicted_at"] = "yesterday"
    del records[3]["predicted_at"]  # stamped with the time of receipt
    result = predictions_ingest(actor=gateway, deployment=live, records=records)
    assert [r["errors"] for r in result.rejected] == [
        ["predicted_at is in the future"],
        ["predicted_at needs a time zone (e.g. 2026-01-31T12:00:00Z)"],
        ["predicted_at must be an ISO 8601 date and time"],
    ]
    logged = Prediction.objects.get()
    assert abs((logged.predicted_at - logged.received_at).total_seconds()) < 1
    feedback = predictions_feedback(
        actor=gateway,
        deployment=live,
        records=[{"request_id": logged.request_id, "ground_truth": 1}],
    )
    assert feedback.updated == 1
    assert Prediction.objects.get().ground_truth_at is not None
