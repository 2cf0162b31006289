"""The demo seed: real models, real hashes, real lineage, and only in demo mode."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from accounts.choices import RoleName
from accounts.models import RoleAssignment, Team, User
from core.hashing import sha256_file
from registry.choices import LineageKind, RunKind
from registry.models import (
    Artifact,
    DatasetVersion,
    LineageEdge,
    ModelVersion,
    RegisteredModel,
    Run,
)
from registry.selectors import lineage_closure, lineage_node_of
from registry.services.artifacts import artifact_path

pytestmark = pytest.mark.django_db

DEMO_USERNAMES = [
    "admin",
    "auditor",
    "contributor",
    "gateway",
    "manager",
    "outsider",
    "validator",
    "validator2",
]


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def path_of(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


def version(model: str, number: int) -> ModelVersion:
    return ModelVersion.objects.get(registered_model__name=model, version=number)


@pytest.fixture
def demo_mode(settings, tmp_path):
    settings.DEMO_MODE = True
    settings.VAR_DIR = tmp_path / "var"
    return settings


@pytest.fixture
def seeded(demo_mode) -> str:
    return seed()


def test_it_refuses_outside_demo_mode(settings, tmp_path):
    settings.DEMO_MODE = False
    settings.VAR_DIR = tmp_path / "var"

    with pytest.raises(CommandError, match="demo mode"):
        seed()

    assert not User.objects.exists()
    assert not RegisteredModel.objects.exists()


def test_it_creates_demo_users_who_can_log_in(seeded):
    # Steward's own system accounts (inactive, no password) are not demo users.
    people = User.objects.filter(is_active=True)
    assert sorted(people.values_list("username", flat=True)) == DEMO_USERNAMES
    for username in DEMO_USERNAMES:
        assert authenticate(username=username, password="steward-demo") is not None, username
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert User.objects.get(username="contributor").display_name == "Carla Contributor"


def test_it_puts_the_outsider_in_another_team(seeded):
    credit = set(Team.objects.get(slug="credit-risk").members.values_list("username", flat=True))
    marketing = set(Team.objects.get(slug="marketing").members.values_list("username", flat=True))

    assert Team.objects.get(slug="credit-risk").name == "Credit Risk"
    assert {"contributor", "validator", "manager", "auditor"} <= credit
    assert marketing == {"outsider"}
    assert RegisteredModel.objects.get(name="wine-segmentation").owner_team.slug == "marketing"


def test_it_grants_each_persona_their_role(seeded):
    grants = {
        (a.user.username, a.role.name, a.team.slug if a.team else None)
        for a in RoleAssignment.objects.select_related("user", "role", "team")
    }

    assert {
        ("admin", RoleName.ADMINISTRATOR, None),
        ("contributor", RoleName.CONTRIBUTOR, "credit-risk"),
        ("validator", RoleName.VALIDATOR, "credit-risk"),
        ("validator2", RoleName.VALIDATOR, "credit-risk"),
        ("manager", RoleName.MANAGER, "credit-risk"),
        ("auditor", RoleName.AUDITOR, None),
        ("outsider", RoleName.CONTRIBUTOR, "marketing"),
        ("gateway", RoleName.GATEWAY, "credit-risk"),
    } == grants


def test_it_registers_a_retrained_version_derived_from_the_first(seeded):
    v1, v2 = version("cancer-screening", 1), version("cancer-screening", 2)

    assert v2.derived_from == v1
    assert v1.params["estimator"] == "LogisticRegression"
    assert v2.params["estimator"] == "GradientBoostingClassifier"
    assert v2.run.kind == RunKind.TRAINING
    assert sorted(v2.dataset_links.values_list("role", flat=True)) == ["test", "train"]
    assert [c["name"] for c in v2.input_schema["columns"]][:2] == ["mean_radius", "mean_texture"]
    assert v2.packages["scikit-learn"]
    assert v2.image_digest.startswith("sha256:")
    assert len(v2.code_commit) == 40


def test_it_records_real_metrics(seeded):
    for number in (1, 2):
        metrics = version("cancer-screening", number).metrics
        assert set(metrics) == {"accuracy", "auc", "f1", "precision", "recall"}
        assert 0.9 <= metrics["accuracy"] <= 1.0
        assert 0.95 <= metrics["auc"] <= 1.0
    regression = version("diabetes-progression", 1).metrics
    assert 0.3 <= regression["r2"] <= 0.7
    assert 0 < regression["mae"] < regression["rmse"] < 80
    assert version("wine-segmentation", 1).metrics["accuracy"] >= 0.85


def test_it_stores_artifacts_that_hash_to_the_recorded_digest(seeded):
    versions = ModelVersion.objects.select_related("artifact")
    assert versions.count() == 5
    for mv in versions:
        digest, size = sha256_file(artifact_path(mv.artifact))
        assert (digest, size) == (mv.artifact_sha256, mv.artifact_size)
    # One model file per version (monitoring also stores a training CSV for its baseline).
    assert Artifact.objects.filter(model_versions__isnull=False).distinct().count() == 5


def test_it_records_dataset_versions_with_the_hash_of_their_csv(seeded):
    for dv in DatasetVersion.objects.all():
        path = path_of(dv.uri)
        digest, size = sha256_file(path)
        assert (digest, size) == (dv.content_hash, dv.size_bytes), dv
        assert dv.row_count == len(path.read_text().splitlines()) - 1
        # Every column is described. (PostgreSQL's jsonb does not keep an object's key order,
        # so the order of the columns is not asserted.)
        assert set(dv.schema) == set(path.read_text().splitlines()[0].split(","))


def test_it_derives_the_cleaned_version_and_the_splits_through_runs(seeded):
    raw = DatasetVersion.objects.get(dataset__name="breast-cancer", version=1)
    cleaned = DatasetVersion.objects.get(dataset__name="breast-cancer", version=2)
    train = DatasetVersion.objects.get(dataset__name="breast-cancer-train")

    assert list(cleaned.derived_from.all()) == [raw]
    assert cleaned.produced_by_run.kind == RunKind.TRANSFORMATION
    assert list(train.derived_from.all()) == [cleaned]
    assert train.produced_by_run.kind == RunKind.TRANSFORMATION
    assert cleaned.profile["malignant"]["counts"] == {"benign": 357, "malignant": 212}


def test_it_traces_the_retrained_version_back_to_the_raw_data(seeded):
    raw = DatasetVersion.objects.get(dataset__name="breast-cancer", version=1)

    contributor = User.objects.get(username="contributor")

    graph = lineage_closure(
        user=contributor, root=lineage_node_of(version("cancer-screening", 2)), depth=10
    )

    keys = {(node.kind, node.key) for node in graph.nodes}
    assert (LineageKind.DATASET_VERSION, raw.natural_key) in keys
    assert (LineageKind.MODEL_VERSION, "cancer-screening/1") in keys
    assert not graph.truncated
    assert graph.hidden_count == 0


def test_it_links_the_evaluation_run_to_the_version_it_evaluated(seeded):
    evaluation = Run.objects.get(kind=RunKind.EVALUATION, name="evaluate-cancer-screening-v1")

    assert "log_loss" in evaluation.metrics
    assert LineageEdge.objects.filter(
        source=lineage_node_of(version("cancer-screening", 1)), target=lineage_node_of(evaluation)
    ).exists()


def test_it_names_the_acting_user_in_the_audit_log(seeded):
    v2 = version("cancer-screening", 2)
    # The first entry is the registration; the governance demo then submits it (also by her).
    entry = LogEntry.objects.get_for_object(v2).order_by("timestamp", "pk").first()

    assert entry.action == LogEntry.Action.CREATE
    assert entry.actor.username == "contributor"


def test_it_changes_nothing_when_run_again(seeded):
    counts = [
        model.objects.count()
        for model in (User, Team, RegisteredModel, ModelVersion, DatasetVersion, Run, Artifact)
    ]

    output = seed()

    assert "nothing to do" in output
    assert counts == [
        model.objects.count()
        for model in (User, Team, RegisteredModel, ModelVersion, DatasetVersion, Run, Artifact)
    ]
