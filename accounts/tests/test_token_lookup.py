"""The bearer token's one-query lookup (accounts.token_lookup): the same token, user and access
as the ORM and user_access read apart, in one query, and nothing kept for the next request."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm

from accounts.access import UserAccess, user_access
from accounts.choices import RoleName
from accounts.models import ApiToken, RoleAssignment, User
from accounts.services import role_assign, role_revoke, token_create, token_revoke
from accounts.services.tokens import token_hash
from accounts.token_lookup import token_with_access
from registry.models import RegisteredModel
from tests.factories import RegisteredModelFactory

pytestmark = pytest.mark.django_db


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def _access(access: UserAccess) -> tuple:
    return access.global_verbs, access.team_verbs, access.object_grants


def test_it_reads_what_the_orm_and_user_access_read_apart_in_one_query(
    contributor, team, other_team
):
    role_assign(user=contributor, role=RoleName.VALIDATOR)  # a global role too
    direct = RegisteredModelFactory(owner_team=other_team)
    through_group = RegisteredModelFactory(owner_team=other_team)
    assign_perm("registry.view_registeredmodel", contributor, direct)
    group = Group.objects.create(name="reviewers")
    contributor.groups.add(group)
    assign_perm("registry.change_registeredmodel", group, through_group)
    token, secret = token_create(actor=contributor, name="ci", scopes=["read"])
    ApiToken.objects.filter(pk=token.pk).update(last_used_ip="10.0.0.7")

    with CaptureQueriesContext(connection) as captured:
        found = token_with_access(token_hash(secret))
        access = user_access(found.user)  # already there: no second query
    assert len(captured.captured_queries) == 1

    expected = ApiToken.objects.select_related("user").get(pk=token.pk)
    assert _fields(found) == _fields(expected)
    assert found.scopes == ["read"] and found.last_used_ip == "10.0.0.7"
    assert _fields(found.user) == _fields(expected.user)
    assert _access(access) == _access(user_access(User.objects.get(pk=contributor.pk)))
    grants = access.object_grants[ContentType.objects.get_for_model(RegisteredModel).pk]
    assert str(direct.pk) in grants["view"]
    assert str(through_group.pk) in grants["change"]
    assert "change" in access.team_verbs[team.pk]


def test_an_unknown_hash_finds_nothing(contributor):
    token_create(actor=contributor, name="ci", scopes=["read"])
    assert token_with_access(token_hash("stw_not-a-token")) is None


def test_a_role_revoked_or_a_token_revoked_is_seen_by_the_next_lookup(contributor, team):
    """Nothing is cached between requests: each lookup reads the roles and the token anew."""
    token, secret = token_create(actor=contributor, name="ci", scopes=["read", "write"])
    assert "change" in user_access(token_with_access(token_hash(secret)).user).team_verbs[team.pk]

    role_revoke(assignment=RoleAssignment.objects.get(user=contributor, team=team))
    after = user_access(token_with_access(token_hash(secret)).user)
    assert "change" not in after.team_verbs.get(team.pk, set())

    token_revoke(actor=contributor, token=token)
    assert token_with_access(token_hash(secret)).revoked_at is not None
