"""The cast that tests use: the governance roles, a team with its members, and an outsider from
another team. Each is a real user with the role assignments the access rules read."""

from __future__ import annotations

import pytest

from accounts.choices import RoleName
from accounts.services import role_assign, team_add_member
from tests.factories import TeamFactory, UserFactory


@pytest.fixture
def team(db):
    return TeamFactory(name="Credit Risk", slug="credit-risk")


@pytest.fixture
def other_team(db):
    return TeamFactory(name="Marketing", slug="marketing")


def _member(username, team, role=None, **extra):
    user = UserFactory(username=username, **extra)
    team_add_member(team=team, user=user)
    if role:
        role_assign(user=user, role=role, team=team)
    return user


@pytest.fixture
def contributor(team):
    """Carol builds models in Credit Risk."""
    return _member("carol", team, RoleName.CONTRIBUTOR)


@pytest.fixture
def teammate(team):
    """Tom, also a contributor in Credit Risk."""
    return _member("tom", team, RoleName.CONTRIBUTOR)


@pytest.fixture
def member(team):
    """Mia belongs to Credit Risk but holds no role: she may look, not change."""
    return _member("mia", team)


@pytest.fixture
def outsider(other_team):
    """Otto is a contributor in Marketing, and nothing in Credit Risk."""
    return _member("otto", other_team, RoleName.CONTRIBUTOR)


def _global(username, role, **extra):
    user = UserFactory(username=username, **extra)
    role_assign(user=user, role=role)
    return user


@pytest.fixture
def validator(db):
    return _global("vera", RoleName.VALIDATOR)


@pytest.fixture
def manager(db):
    return _global("max", RoleName.MANAGER)


@pytest.fixture
def auditor(db):
    return _global("aud", RoleName.AUDITOR)


@pytest.fixture
def administrator(db):
    return _global("ada", RoleName.ADMINISTRATOR, is_staff=True)


@pytest.fixture
def gateway(team):
    """Gus is the serving gateway's service account for Credit Risk: it logs what the deployed
    models did, and may do nothing else."""
    user = UserFactory(username="gus")
    role_assign(user=user, role=RoleName.GATEWAY, team=team)
    return user
