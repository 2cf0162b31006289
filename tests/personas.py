"""The small cast that tests use: a team with its members, and an outsider from another team."""

from __future__ import annotations

import pytest

from accounts.services import team_add_member
from tests.factories import TeamFactory, UserFactory


@pytest.fixture
def team(db):
    return TeamFactory(name="Credit Risk", slug="credit-risk")


@pytest.fixture
def other_team(db):
    return TeamFactory(name="Marketing", slug="marketing")


@pytest.fixture
def contributor(team):
    user = UserFactory(username="carol")
    team_add_member(team=team, user=user)
    return user


@pytest.fixture
def teammate(team):
    user = UserFactory(username="tom")
    team_add_member(team=team, user=user)
    return user


@pytest.fixture
def outsider(other_team):
    user = UserFactory(username="otto")
    team_add_member(team=other_team, user=user)
    return user
