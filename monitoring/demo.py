"""The monitoring part of the demo: a live production deployment with a week of real traffic.

``cancer-screening`` v1 (put in production by the governance demo, two sign-offs and an
approval on the way) is deployed live in production as ``cancer-screening-prod`` by the demo
manager (were v1 only approved, going live would promote it). A week of screening requests is
then logged through the ingestion service: every answer comes from the very pipeline v1 was
trained as, refitted here on the same training rows (the demo keeps no fitted estimator once
its seeding ends, and Steward never unpickles an artifact); every request is a sample of the
Wisconsin data set. Over the last two days the pilot clinic's imaging station reports
``mean_radius`` progressively larger (up to 45 %, a recalibration artefact: the tissue did not
change), and about 60 % of the samples get a pathology diagnosis as ground truth a few hours to
two days later.

The predictions, diagnoses and the clinic's KPI values are logged by the demo's serving gateway
account (``gateway``, the gateway role: production evidence is never written by a model's
developers). The baseline is profiled by the validator (v1 is past review: its baseline is
evidence, set by someone independent of who built it) from v1's training CSV, put in the
artifact store by its owner under the content hash its dataset version records. Daily checks
over the seven full days before today (a scheduled run at each midnight) then find the
features stable for five days and ``mean_radius`` drifting in the last two; the drift rule
(warning, e-mail to the manager and the model's owner, ``flag_version`` off so v1 stays in
production) opens one alert and leaves it open. A reported KPI (the share of samples referred
to a pathologist) gets one value a day, and a check-metric KPI follows the accuracy on
confirmed diagnoses.

Registered by ``MonitoringConfig.ready()`` as a hook of ``manage.py seed_demo``. Idempotent the
way the governance demo is: once v1 has a deployment the hook does nothing (nor when one of
its demo users is gone). Everything is
written in one transaction, so a failure leaves nothing half built. This module imports neither
scikit-learn nor ``registry.demo`` at import time: ``ready()`` imports it, and scikit-learn is
the optional ``demo`` extra.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from auditlog.context import set_actor
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.hashing import sha256_file
from monitoring.choices import (
    AlertState,
    ChannelKind,
    CheckKind,
    CheckStatus,
    CheckTrigger,
    DeploymentMode,
    Environment,
    KpiDirection,
    KpiSource,
    Severity,
)
from monitoring.models import BaselineProfile, Deployment, Kpi
from monitoring.services.alerts import alert_channel_create, alert_rule_create
from monitoring.services.baselines import baseline_create, baseline_create_from_training_data
from monitoring.services.checks import checks_run
from monitoring.services.deployments import SERVING_STATES, deployment_create
from monitoring.services.ingestion import predictions_feedback, predictions_ingest
from monitoring.services.kpis import kpi_create, kpi_value_record
from registry.choices import DatasetRole
from registry.models import DatasetVersion, ModelVersion
from registry.services.artifacts import artifact_root, artifact_store

MODEL, VERSION = "cancer-screening", 1
DEPLOYMENT = "cancer-screening-prod"
DAYS = 7  # full days of traffic and of daily checks before today
DAILY_REQUESTS = (360, 440)  # drawn per day; about 3,000 over the week and today
DRIFTING_FEATURE = "mean_radius"
DRIFT_DAYS = 2  # the drift ramps up over the last two full days...
DRIFT_PEAK = 1.45  # ...to this factor at midnight, and stays there today
CONFIRMED_SHARE = 0.75  # samples that get a pathology diagnosis at all
TRUTH_DELAY_HOURS = (2.0, 48.0)
# Synthetic: the Wisconsin data set records no patient attributes. One band per sample, in the
# same proportions among benign and malignant ones (``_age_bands``), so the bias check has a
# protected attribute to look at and rightly finds nothing.
AGE_BANDS, AGE_BAND_SHARES = ("under 50", "50 and over"), (0.45, 0.55)
SEED = 20_240_917


@dataclass(frozen=True)
class Served:
    """What the deployment serves: v1's pipeline refitted on v1's training rows, the training
    table (for the baseline), the cleaned data set requests are drawn from, and a synthetic
    age band for each of its samples."""

    estimator: Any
    train: Any  # registry.demo.tables.Table, imported only when the demo runs
    population: Any
    age_bands: np.ndarray


@dataclass(frozen=True)
class Day:
    """One day of screening requests: when they came (unix seconds), which samples of the data
    set they were, what the model saw and answered, and when the diagnosis came back (NaN if
    it has not, or never will: not every flag is followed by a biopsy)."""

    start: datetime
    moments: np.ndarray
    rows: np.ndarray
    X: np.ndarray
    probabilities: np.ndarray
    latency: np.ndarray
    observed: np.ndarray


def monitoring_demo_seed() -> list[str]:
    """Deploy, log, check and alert as described in the module docstring; returns what was
    created (nothing when v1 is missing, not approved, already deployed, or a demo person is
    gone)."""
    version = ModelVersion.objects.filter(registered_model__name=MODEL, version=VERSION).first()
    if version is None or version.status not in SERVING_STATES or version.deployments.exists():
        return []
    if Deployment.objects.filter(name=DEPLOYMENT).exists():
        return []
    people = {u.username: u for u in User.objects.filter(username__in=People._fields)}
    if len(people) < len(People._fields):
        return []
    served = _served(version)
    with transaction.atomic():
        return _seed(version, served, People(**people))


class People(NamedTuple):
    """The demo users who take part: v1's owner, the manager who deploys it, a validator who
    profiles its baseline and the serving gateway that logs its traffic."""

    contributor: User
    manager: User
    validator: User
    gateway: User


def _seed(version: ModelVersion, served: Served, people: People) -> list[str]:
    now = timezone.now()
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    owner, manager, gateway = people.contributor, people.manager, people.gateway
    with set_actor(manager):
        deployment = _deploy(manager, version)
        referrals = _kpis_create(manager, deployment)
        _alerting_create(manager, deployment, owner)
    baseline = _baseline_create(owner, people.validator, version, served.train)
    with set_actor(gateway):
        days = [_day(served, midnight, day, now) for day in range(DAYS + 1)]
        logged = sum(_log(gateway, deployment, served, day) for day in days)
        _checks_history(gateway, deployment, referrals, days[:DAYS], midnight)
    labelled = deployment.predictions.filter(ground_truth__isnull=False).count()
    alerts = deployment.alerts.exclude(state=AlertState.RESOLVED).count()
    return [
        f"deployment {DEPLOYMENT} ({version.natural_key}, live in production)",
        f"{logged} logged predictions ({labelled} with ground truth, {DRIFTING_FEATURE} "
        f"drifting over the last {DRIFT_DAYS} days), baseline from {baseline.source_label}",
        f"{deployment.check_results.count()} check results over {DAYS} days, {alerts} open alert",
    ]


def _checks_history(
    gateway: User, deployment: Deployment, referrals: Kpi, days: list[Day], midnight: datetime
) -> None:
    """Each full day: the clinic reports its referral rate (through the gateway), then the
    scheduled checks run over the day at the following midnight. In that order, so each day's
    health score weighs the KPI values known by then, not the week's last. (``checks_run``
    records the check-metric KPI itself.)"""
    for number, day in enumerate(days):
        end = midnight - timedelta(days=len(days) - 1 - number)
        kpi_value_record(
            actor=gateway,
            kpi=referrals,
            deployment=deployment,
            value=_referral_percent(day),
            measured_at=end,
        )
        checks_run(
            deployment=deployment,
            window_start=end - timedelta(days=1),
            window_end=end,
            trigger=CheckTrigger.SCHEDULE,
        )


# --- The model and its traffic ---------------------------------------------------------------


def _served(version: ModelVersion) -> Served:
    """Refit v1's pipeline on v1's training rows, split exactly as the registry demo splits
    them (same data, cleaning, seed and stratification; the training CSV's hash checks it)."""
    # scikit-learn (and registry.demo, which uses it) is the optional "demo" extra.
    from sklearn.model_selection import train_test_split

    from registry.demo.scenarios import RANDOM_STATE, SCENARIOS, TEST_SIZE

    spec = next(s for s in SCENARIOS if s.model == MODEL)
    candidate = next(c for c in spec.candidates if c.estimator == version.params["estimator"])
    population = spec.clean(spec.load())
    rows, _ = train_test_split(
        np.arange(len(population.y)),
        test_size=TEST_SIZE,
        random_state=RANDOM_STATE,
        stratify=population.y,
    )
    train = population.rows(rows)
    estimator = candidate.build(candidate.params).fit(train.X, train.y)
    return Served(estimator, train, population, _age_bands(population.y))


def _age_bands(diagnoses: np.ndarray) -> np.ndarray:
    """A synthetic age band per sample of the data set, in the same proportions among benign
    and malignant samples: age is independent of the diagnosis by construction, so a bias
    flag could only come from the model (it does not: the check finds nothing)."""
    rng = np.random.default_rng(SEED)  # the days draw from (SEED, day)
    bands = np.empty(len(diagnoses), dtype=object)
    for diagnosis in np.unique(diagnoses):
        rows = rng.permutation(np.flatnonzero(diagnoses == diagnosis))
        cut = round(AGE_BAND_SHARES[0] * len(rows))
        bands[rows[:cut]], bands[rows[cut:]] = AGE_BANDS
    return bands


def _drift_factor(moments: np.ndarray, midnight: datetime) -> np.ndarray:
    """1 until the ramp starts, then rising linearly to DRIFT_PEAK at the last midnight."""
    start = (midnight - timedelta(days=DRIFT_DAYS)).timestamp()
    progress = np.clip((moments - start) / (midnight.timestamp() - start), 0.0, 1.0)
    return 1.0 + (DRIFT_PEAK - 1.0) * progress


def _day(served: Served, midnight: datetime, day: int, now: datetime) -> Day:
    """Day ``day`` (0 is seven days ago, DAYS is today so far) of screening requests: distinct
    samples of the data set (no aspirate twice a day), answered by the model. Each day draws
    from its own seeded generator, so what a daily window holds does not depend on the time of
    day the demo is seeded; only which diagnoses are back yet does."""
    rng = np.random.default_rng((SEED, day))
    start = midnight - timedelta(days=DAYS - day)
    span = min(86_400.0, (now - start).total_seconds())
    count = round(int(rng.integers(*DAILY_REQUESTS)) * span / 86_400)
    moments = start.timestamp() + np.sort(rng.uniform(0, span, count))
    rows = rng.choice(len(served.population.y), count, replace=False)
    X = served.population.X[rows].copy()
    X[:, served.population.features.index(DRIFTING_FEATURE)] *= _drift_factor(moments, midnight)
    delay = rng.uniform(*TRUTH_DELAY_HOURS, count) * 3600
    known = (rng.random(count) < CONFIRMED_SHARE) & (moments + delay <= now.timestamp())
    return Day(
        start=start,
        moments=moments,
        rows=rows,
        X=X,
        probabilities=served.estimator.predict_proba(X),
        latency=rng.lognormal(np.log(12.0), 0.4, count),
        observed=np.where(known, moments + delay, np.nan),
    )


def _moment(seconds: float, day: Day) -> str:
    return datetime.fromtimestamp(seconds, tz=day.start.tzinfo).isoformat()


def _records(served: Served, day: Day) -> list[dict]:
    """The day's predictions as the serving gateway logs them; outputs as the version's output
    schema declares them (label index, then both probabilities)."""
    population, records = served.population, []
    inputs = np.round(day.X, 6).tolist()
    for i, row in enumerate(day.rows):
        probabilities = [round(float(p), 6) for p in day.probabilities[i]]
        records.append(
            {
                "request_id": f"screen-{day.start:%Y%m%d}-{i:04d}",
                "predicted_at": _moment(day.moments[i], day),
                "inputs": dict(zip(population.features, inputs[i], strict=True)),
                "outputs": {
                    population.target: int(day.probabilities[i].argmax()),
                    "probabilities": probabilities,
                },
                "latency_ms": round(float(day.latency[i]), 1),
                "protected": {"age_band": served.age_bands[row]},
            }
        )
    return records


def _truths(served: Served, day: Day) -> list[dict]:
    """The pathology diagnoses that came back for the day's samples so far."""
    return [
        {
            "request_id": f"screen-{day.start:%Y%m%d}-{i:04d}",
            "ground_truth": int(served.population.y[day.rows[i]]),
            "observed_at": _moment(day.observed[i], day),
        }
        for i in np.flatnonzero(~np.isnan(day.observed))
    ]


def _referral_percent(day: Day) -> float:
    """The share of the day's samples flagged malignant, which the clinic refers to a
    pathologist: what its scheduling system reports as the KPI."""
    return round(100 * float((day.probabilities.argmax(axis=1) == 1).mean()), 1)


# --- Service calls ---------------------------------------------------------------------------


def _deploy(manager: User, version: ModelVersion) -> Deployment:
    return deployment_create(
        actor=manager,
        version=version,
        name=DEPLOYMENT,
        environment=Environment.PRODUCTION,
        mode=DeploymentMode.LIVE,
        endpoint_url="https://screening.pilot-clinic.example.org/v1/predict",
        description="Screening queue of the pilot clinic: every fine-needle aspirate is scored "
        "and samples flagged malignant go to a pathologist first.",
    )


def _log(actor: User, deployment: Deployment, served: Served, day: Day) -> int:
    """Log one day as the gateway would (one batch), then the diagnoses that came back."""
    records = _records(served, day)
    if not records:
        return 0
    logged = predictions_ingest(actor=actor, deployment=deployment, records=records)
    truths = _truths(served, day)
    if truths:
        predictions_feedback(actor=actor, deployment=deployment, records=truths)
    return logged.accepted


def _baseline_create(
    owner: User, actor: User, version: ModelVersion, train: Any
) -> BaselineProfile:
    """Profile v1's training data from the artifact store, as ``actor`` (the validator): the
    training CSV is written again from the rebuilt training rows and stored by its ``owner``
    only when it hashes to what its dataset version records, so the profile is that
    version's. Should it not (a different scikit-learn ships different data), the rebuilt rows
    are profiled as uploaded reference data, and say so."""
    link = version.dataset_links.filter(role=DatasetRole.TRAIN).first()
    with set_actor(owner):
        stored = link is not None and _training_csv_store(owner, train, link.dataset_version)
    if stored:
        with set_actor(actor):
            return baseline_create_from_training_data(actor=actor, version=version)
    columns = [*train.features, train.target]
    rows = [
        dict(zip(columns, [*x, y], strict=True))
        for x, y in zip(train.X.tolist(), train.y.tolist(), strict=True)
    ]
    with set_actor(actor):
        return baseline_create(
            actor=actor,
            version=version,
            rows=rows,
            source_label=f"training rows of {version.natural_key} rebuilt by the demo",
        )


def _training_csv_store(actor: User, train: Any, dataset_version: DatasetVersion) -> bool:
    with tempfile.NamedTemporaryFile(
        dir=artifact_root() / "tmp", prefix="demo-", suffix=".csv", delete=False
    ) as handle:
        path = Path(handle.name)
    train.write_csv(path)
    sha256, size = sha256_file(path)
    if sha256 != dataset_version.content_hash:
        path.unlink(missing_ok=True)
        return False
    artifact_store(
        actor=actor,
        temp_path=path,
        sha256=sha256,
        size_bytes=size,
        original_name=f"{dataset_version.dataset.name}.csv",
        content_type="text/csv",
    )
    return True


def _kpis_create(manager: User, deployment: Deployment) -> Kpi:
    """The reported referral rate (returned: the demo records its values) and the accuracy on
    confirmed diagnoses, which every performance check records."""
    kpi_create(
        actor=manager,
        name="Accuracy on confirmed diagnoses",
        deployment=deployment,
        source=KpiSource.CHECK_METRIC,
        metric=f"{CheckKind.PERFORMANCE}.accuracy",
        direction=KpiDirection.HIGHER_IS_BETTER,
        warning_threshold=0.95,
        critical_threshold=0.92,
        description="Accuracy of the flags on samples whose pathology diagnosis came back.",
    )
    return kpi_create(
        actor=manager,
        name="Pathologist referral rate",
        deployment=deployment,
        direction=KpiDirection.LOWER_IS_BETTER,
        warning_threshold=45.0,
        critical_threshold=55.0,
        unit="%",
        description="Share of the day's samples referred to a pathologist (flagged malignant), "
        "reported daily by the clinic's scheduling system. Above 45 % the pathologists' queue "
        "overflows.",
    )


def _alerting_create(manager: User, deployment: Deployment, owner: User) -> None:
    channel = alert_channel_create(
        actor=manager,
        owner_team=deployment.registered_model.owner_team,
        name="Screening model on-call",
        kind=ChannelKind.EMAIL,
        target=f"{manager.email}, {owner.email}",
    )
    alert_rule_create(
        actor=manager,
        name="Input drift on the screening queue",
        deployment=deployment,
        check_kind=CheckKind.DRIFT,
        min_status=CheckStatus.WARNING,
        severity=Severity.WARNING,
        channels=[channel],
        # Drift alone does not take a screening model out of service: a person looks first.
        flag_version=False,
    )
