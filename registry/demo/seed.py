"""Seeding: every write through the registry and accounts services, under the acting demo user
(``auditlog.context.set_actor``), one transaction per model so a failure leaves nothing half
built, and nothing created twice."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from auditlog.context import set_actor
from django.conf import settings
from django.db import transaction
from sklearn.model_selection import train_test_split

from accounts import services as account_services
from accounts.models import Team, User
from registry import services
from registry.choices import DatasetRole, LineageRelation, RunKind
from registry.demo.provenance import (
    artifact_from_model,
    code_and_environment,
    dataset_version_from,
    evaluation_extras,
    score,
    timed,
)
from registry.demo.scenarios import (
    DEMO_PASSWORD,
    DEMO_TEAMS,
    DEMO_USERS,
    EMAIL_DOMAIN,
    RANDOM_STATE,
    SCENARIOS,
    TEST_SIZE,
    Candidate,
    DemoUser,
    Scenario,
)
from registry.demo.tables import Table
from registry.demo_hooks import demo_hooks
from registry.models import DatasetVersion, ModelVersion, RegisteredModel


@dataclass
class SeedReport:
    """What one seeding created and what it found already there."""

    created: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    versions: list[ModelVersion] = field(default_factory=list)


# A table and the dataset version that records its file.
Recorded = tuple[Table, DatasetVersion]


@dataclass
class _Step:
    """What every step of one scenario works with."""

    spec: Scenario
    actor: User
    team: Team
    folder: Path
    report: SeedReport


def _record_clean(step: _Step, raw: Table, raw_version: DatasetVersion) -> Recorded:
    """Run the scenario's cleaning function on the raw table and record the result as the next
    version of the same dataset, produced by a transformation run."""
    spec = step.spec
    what = " ".join(inspect.getdoc(spec.clean).split())
    with timed() as span:
        cleaned = spec.clean(raw)
    run = services.run_create(
        actor=step.actor,
        kind=RunKind.TRANSFORMATION,
        team=step.team,
        name=f"clean-{spec.dataset}",
        inputs=[(raw_version, DatasetRole.INPUT)],
        params={"function": f"{spec.clean.__module__}.{spec.clean.__name__}"},
        metrics={"rows_out": len(cleaned.y), "columns_out": len(cleaned.features) + 1},
        notes=what,
        **span,
        **code_and_environment(f"pipelines/{spec.dataset}/clean.py"),
    )
    version = dataset_version_from(
        step.actor,
        raw_version.dataset,
        cleaned,
        step.folder / "cleaned.csv",
        description=what,
        produced_by_run=run,
        derived_from=[raw_version],
    )
    return cleaned, version


def _record_split(step: _Step, table: Table, source: DatasetVersion) -> list[Recorded]:
    """Split ``table`` into train and test sets, each recorded as its own dataset."""
    spec = step.spec
    with timed() as span:
        train_rows, test_rows = train_test_split(
            np.arange(len(table.y)),
            test_size=TEST_SIZE,
            random_state=RANDOM_STATE,
            stratify=table.y if table.classes else None,
        )
    params = {"test_size": TEST_SIZE, "random_state": RANDOM_STATE, "stratify": bool(table.classes)}
    run = services.run_create(
        actor=step.actor,
        kind=RunKind.TRANSFORMATION,
        team=step.team,
        name=f"split-{spec.dataset}",
        inputs=[(source, DatasetRole.INPUT)],
        params=params,
        metrics={"train_rows": len(train_rows), "test_rows": len(test_rows)},
        **span,
        **code_and_environment(f"pipelines/{spec.dataset}/split.py"),
    )
    parts = []
    for part, rows in (("train", train_rows), ("test", test_rows)):
        dataset = services.dataset_create(
            actor=step.actor,
            name=f"{spec.dataset}-{part}",
            owner_team=step.team,
            description=f"The {part} split of {spec.dataset}.",
            tags=spec.tags,
        )
        subset = table.rows(rows)
        version = dataset_version_from(
            step.actor,
            dataset,
            subset,
            step.folder / f"{part}.csv",
            description=f"{len(rows)} of the {len(table.y)} rows of {source.natural_key}.",
            produced_by_run=run,
            derived_from=[source],
        )
        parts.append((subset, version))
    return parts


def _record_training(
    step: _Step,
    model: RegisteredModel,
    candidate: Candidate,
    train: Recorded,
    test: Recorded,
    previous: ModelVersion | None,
) -> tuple[ModelVersion, Any]:
    """Fit the candidate on the train split, score it on the test split, record the training
    run, store the fitted model and register it as the model's next version."""
    (train_table, train_version), (test_table, test_version) = train, test
    with timed() as span:
        estimator = candidate.build(candidate.params).fit(train_table.X, train_table.y)
    metrics = score(estimator, test_table)
    params = {"estimator": candidate.estimator, **candidate.params}
    provenance = code_and_environment(candidate.code_path)
    run = services.run_create(
        actor=step.actor,
        kind=RunKind.TRAINING,
        team=step.team,
        params=params,
        metrics=metrics,
        name=f"train-{model.name}-{candidate.estimator.lower()}",
        inputs=[(train_version, DatasetRole.TRAIN), (test_version, DatasetRole.TEST)],
        **span,
        **provenance,
    )
    artifact = artifact_from_model(
        step.actor, estimator, f"{model.name}-{candidate.estimator.lower()}.pkl"
    )
    version = services.model_version_register(
        actor=step.actor,
        registered_model=model,
        artifact=artifact,
        framework="sklearn",
        input_schema=train_table.input_schema(),
        output_schema=train_table.output_schema(),
        params=params,
        metrics=metrics,
        run=run,
        derived_from=previous,
        description=candidate.description,
        **provenance,
    )
    return version, estimator


def _record_evaluation(step: _Step, version: ModelVersion, estimator: Any, test: Recorded) -> None:
    """Record a separate evaluation of ``version`` on the test split; the version is an input
    of the evaluation run in the lineage graph."""
    test_table, test_version = test
    with timed() as span:
        metrics = {**score(estimator, test_table), **evaluation_extras(estimator, test_table)}
    run = services.run_create(
        actor=step.actor,
        kind=RunKind.EVALUATION,
        team=step.team,
        name=f"evaluate-{version.registered_model.name}-v{version.version}",
        inputs=[(test_version, DatasetRole.TEST)],
        params={"model_version": version.natural_key},
        metrics=metrics,
        **span,
        **code_and_environment(f"models/{step.spec.model.replace('-', '_')}/evaluate.py"),
    )
    services.lineage_edge_add(source=version, target=run, relation=LineageRelation.INPUT)


def _seed_scenario(step: _Step) -> None:
    spec = step.spec
    raw = spec.load()
    dataset = services.dataset_create(
        actor=step.actor,
        name=spec.dataset,
        owner_team=step.team,
        description=spec.dataset_description,
        tags=spec.tags,
    )
    table = raw
    version = dataset_version_from(
        step.actor,
        dataset,
        raw,
        step.folder / "raw.csv",
        description="As shipped with scikit-learn.",
    )
    if spec.clean is not None:
        table, version = _record_clean(step, raw, version)
    train, test = _record_split(step, table, version)
    model = services.registered_model_create(
        actor=step.actor,
        name=spec.model,
        owner_team=step.team,
        risk_tier=spec.risk_tier,
        description=spec.description,
        tags=spec.tags,
    )
    previous = first = None
    for candidate in spec.candidates:
        previous, estimator = _record_training(step, model, candidate, train, test, previous)
        step.report.versions.append(previous)
        first = first or (previous, estimator)
    _record_evaluation(step, *first, test)


def _ensure_user(spec: DemoUser, report: SeedReport) -> User:
    user = User.objects.filter(username=spec.username).first()
    if user is not None:
        report.skipped.append(f"user {spec.username}")
        return user
    user = account_services.user_create(
        actor=None,  # the demo itself, as the system
        username=spec.username,
        email=f"{spec.username}@{EMAIL_DOMAIN}",
        password=DEMO_PASSWORD,
        first_name=spec.first_name,
        last_name=spec.last_name,
        display_name=f"{spec.first_name} {spec.last_name}",
        is_superuser=spec.superuser,
    )
    report.created.append(f"user {spec.username}")
    return user


def _ensure_teams(admin: User, report: SeedReport) -> dict[str, Team]:
    teams = {}
    for slug, name, description in DEMO_TEAMS:
        teams[slug] = Team.objects.filter(slug=slug).first()
        if teams[slug] is None:
            teams[slug] = account_services.team_create(
                name=name, slug=slug, description=description, actor=admin
            )
            report.created.append(f"team {slug}")
    return teams


@transaction.atomic
def _seed_people(report: SeedReport) -> None:
    """The demo administrator first, who then creates the teams and grants memberships and
    roles (both services are idempotent)."""
    admin = _ensure_user(DEMO_USERS[0], report)
    with set_actor(admin):
        teams = _ensure_teams(admin, report)
        for spec in DEMO_USERS:
            user = admin if spec is DEMO_USERS[0] else _ensure_user(spec, report)
            for slug in spec.teams:
                account_services.team_add_member(team=teams[slug], user=user, actor=admin)
            for role, slug in spec.roles:
                account_services.role_assign(
                    user=user, role=role, team=teams[slug] if slug else None, actor=admin
                )


def demo_seed() -> SeedReport:
    """Create whatever of the demo is missing. A model that already exists is left alone with
    everything it was built from, so running this again changes nothing."""
    report = SeedReport()
    _seed_people(report)
    for spec in SCENARIOS:
        if RegisteredModel.objects.filter(name=spec.model).exists():
            report.skipped.append(f"model {spec.model}")
            continue
        actor = User.objects.get(username=spec.owner)
        step = _Step(
            spec,
            actor,
            Team.objects.get(slug=spec.team),
            Path(settings.VAR_DIR) / "demo-data" / spec.dataset,
            report,
        )
        with transaction.atomic(), set_actor(actor):
            _seed_scenario(step)
        report.created.append(f"model {spec.model}")
    for hook in demo_hooks():  # what later apps add: reviews, deployments
        report.created.extend(hook())
    return report
