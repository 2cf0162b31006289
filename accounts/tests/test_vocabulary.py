"""One permission vocabulary, told as a story: ``Model.objects.restrict(user, verb)`` for lists
and ``may(user, verb, obj)`` for one record, from the role table and the paths each governed
model registers.

The cast: Mia is a plain member of team A (Credit Risk); Vic validates for team B (Marketing)
only; Aud audits everything. Team A owns one model, team B another; each model has a version,
a deployment, a KPI of that deployment and a model-wide KPI (the two paths a KPI may take)."""

from __future__ import annotations

import pytest

from accounts.access import may, require, require_in_team
from accounts.choices import RoleName, Verb
from accounts.services import role_assign, team_add_member
from core.errors import Forbidden, NotFound
from monitoring.models import Deployment, Kpi
from monitoring.tests.factories import DeploymentFactory, KpiFactory
from registry.models import Dataset, ModelVersion, RegisteredModel
from tests.factories import DatasetFactory, RegisteredModelFactory, TeamFactory, UserFactory


@pytest.fixture
def world(db):
    team_a = TeamFactory(name="Credit Risk", slug="credit-risk")
    team_b = TeamFactory(name="Marketing", slug="marketing")
    mia = UserFactory(username="mia")
    team_add_member(team=team_a, user=mia)
    vic = UserFactory(username="vic")
    role_assign(user=vic, role=RoleName.VALIDATOR, team=team_b)
    aud = UserFactory(username="aud")
    role_assign(user=aud, role=RoleName.AUDITOR)
    deployments = {}
    for key, owner in (("a", team_a), ("b", team_b)):
        model = RegisteredModelFactory(name=f"scorer-{key}", owner_team=owner)
        deployment = DeploymentFactory(model_version__registered_model=model)
        KpiFactory(name=f"latency-{key}", deployment=deployment)
        KpiFactory(name=f"uplift-{key}", deployment=None, registered_model=model)
        DatasetFactory(name=f"applications-{key}", owner_team=owner)
        deployments[key] = deployment
    return {
        "team_a": team_a,
        "team_b": team_b,
        "mia": mia,
        "vic": vic,
        "aud": aud,
        "a": deployments["a"],
        "b": deployments["b"],
    }


def _names(qs, field="name"):
    return sorted(qs.values_list(field, flat=True))


def test_it_shows_a_member_her_teams_records_and_nothing_else(world):
    mia = world["mia"]
    assert _names(RegisteredModel.objects.restrict(mia)) == ["scorer-a"]
    assert _names(ModelVersion.objects.restrict(mia), "registered_model__name") == ["scorer-a"]
    assert _names(Dataset.objects.restrict(mia)) == ["applications-a"]
    # Monitoring's rows reach their model through the path they registered; a KPI through its
    # deployment or, for a model-wide one, through its model.
    assert list(Deployment.objects.restrict(mia)) == [world["a"]]
    assert _names(Kpi.objects.restrict(mia)) == ["latency-a", "uplift-a"]
    assert may(mia, Verb.VIEW, world["a"])
    assert not may(mia, Verb.VIEW, world["b"])


def test_it_gives_a_member_no_verb_beyond_looking(world):
    mia, deployment = world["mia"], world["a"]
    assert not RegisteredModel.objects.restrict(mia, Verb.CHANGE).exists()
    assert not may(mia, Verb.CHANGE, deployment.model_version)
    # Visible but not hers to change: 403. Invisible: 404, its existence is not hers to know.
    with pytest.raises(Forbidden):
        require(mia, Verb.CHANGE, deployment.model_version.registered_model)
    with pytest.raises(NotFound):
        require(mia, Verb.CHANGE, world["b"].model_version.registered_model)
    with pytest.raises(Forbidden):
        require_in_team(mia, Verb.CHANGE, world["team_a"])


def test_it_lets_a_team_validator_validate_in_her_team_only(world):
    vic = world["vic"]
    assert _names(RegisteredModel.objects.restrict(vic)) == ["scorer-b"]
    assert _names(RegisteredModel.objects.restrict(vic, Verb.VALIDATE)) == ["scorer-b"]
    assert not RegisteredModel.objects.restrict(vic, Verb.APPROVE).exists()
    assert may(vic, Verb.VALIDATE, world["b"].model_version)
    assert not may(vic, Verb.VALIDATE, world["a"].model_version)
    assert not may(vic, Verb.SUBMIT, world["b"].model_version)
    # A team's validator reads that team's records, not the audit.
    assert not may(vic, Verb.READ_AUDIT)


def test_it_lets_the_auditor_see_everything_and_change_nothing(world):
    aud = world["aud"]
    assert _names(RegisteredModel.objects.restrict(aud)) == ["scorer-a", "scorer-b"]
    assert _names(Kpi.objects.restrict(aud)) == ["latency-a", "latency-b", "uplift-a", "uplift-b"]
    assert may(aud, Verb.READ_AUDIT)
    assert may(aud, Verb.VIEW, world["b"])
    assert not may(aud, Verb.DEPLOY, world["b"])
    assert not Deployment.objects.restrict(aud, Verb.DEPLOY).exists()
    with pytest.raises(Forbidden):
        require(aud, Verb.CHANGE, world["a"].model_version)


def test_it_reads_the_audit_only_from_a_global_role(world):
    """Reading the audit is in the role table (auditors, administrators), but only a role held
    everywhere gives it: a team's auditor or administrator reads their team's records."""
    team_auditor = UserFactory(username="tia")
    role_assign(user=team_auditor, role=RoleName.AUDITOR, team=world["team_a"])
    team_admin = UserFactory(username="tad")
    role_assign(user=team_admin, role=RoleName.ADMINISTRATOR, team=world["team_a"])
    admin = UserFactory(username="ada")
    role_assign(user=admin, role=RoleName.ADMINISTRATOR)
    assert not may(team_auditor, Verb.READ_AUDIT)
    assert not may(team_admin, Verb.READ_AUDIT)
    assert may(admin, Verb.READ_AUDIT)
    assert may(UserFactory(username="root", is_superuser=True), Verb.READ_AUDIT)
    assert not may(world["mia"], Verb.READ_AUDIT)
    assert _names(RegisteredModel.objects.restrict(team_auditor)) == ["scorer-a"]
