"""Roles, memberships and what they let people do."""

from __future__ import annotations

import pytest

from accounts.choices import GrantSource, RoleName
from accounts.models import RoleAssignment
from accounts.services import role_assign, role_revoke, team_add_member
from core.errors import Forbidden
from registry.models import RegisteredModel
from registry.services import model_role_assign, model_role_revoke
from tests.factories import RegisteredModelFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_roles_answer_has_perm_per_team(contributor, outsider, team):
    model = RegisteredModelFactory(owner_team=team)
    assert contributor.has_perm("registry.change_registeredmodel", model)
    assert contributor.has_perm("registry.submit_registeredmodel", model)
    assert not contributor.has_perm("registry.approve_registeredmodel", model)
    assert not outsider.has_perm("registry.view_registeredmodel", model)


def test_a_member_without_a_role_may_only_look(member, team):
    model = RegisteredModelFactory(owner_team=team)
    assert member.has_perm("registry.view_registeredmodel", model)
    assert not member.has_perm("registry.change_registeredmodel", model)


def test_role_verbs_never_leak_into_other_model_permissions(administrator):
    """A global administrator's "change" is about governed records, not about user accounts
    or role assignments in the admin."""
    assert administrator.has_perm("registry.change_registeredmodel")
    assert not administrator.has_perm("accounts.change_user")
    assert not administrator.has_perm("accounts.change_roleassignment")
    assert not administrator.has_perm("auth.change_group")


def test_only_administrators_grant_and_nobody_grants_themselves(contributor, administrator):
    someone = UserFactory()
    with pytest.raises(Forbidden):
        role_assign(actor=contributor, user=someone, role=RoleName.MANAGER)
    with pytest.raises(Forbidden):
        role_assign(actor=administrator, user=administrator, role=RoleName.MANAGER)
    assignment = role_assign(actor=administrator, user=someone, role=RoleName.MANAGER)
    assert assignment.granted_by == administrator
    with pytest.raises(Forbidden):
        role_revoke(actor=contributor, assignment=assignment)
    role_revoke(actor=administrator, assignment=assignment)
    assert not RoleAssignment.objects.filter(user=someone).exists()


def test_a_manual_grant_outlives_the_directory_grant_it_repeats(team, administrator):
    someone = UserFactory()
    team_add_member(team=team, user=someone, source=GrantSource.LDAP)
    role_assign(user=someone, role=RoleName.VALIDATOR, source=GrantSource.LDAP)
    membership = team_add_member(actor=administrator, team=team, user=someone)
    assignment = role_assign(actor=administrator, user=someone, role=RoleName.VALIDATOR)
    assert membership.source == GrantSource.MANUAL
    assert assignment.source == GrantSource.MANUAL
    assert assignment.granted_by == administrator


def test_a_model_scoped_role_grants_that_model_only(administrator, other_team, team):
    external = UserFactory()
    model = RegisteredModelFactory(owner_team=team)
    other = RegisteredModelFactory(owner_team=other_team)
    assignment = model_role_assign(
        actor=administrator, user=external, role=RoleName.VALIDATOR, registered_model=model
    )
    external = type(external).objects.get(pk=external.pk)
    assert external.has_perm("registry.validate_registeredmodel", model)
    assert external.has_perm("registry.view_registeredmodel", model)
    assert not external.has_perm("registry.view_registeredmodel", other)
    assert not external.has_perm("registry.approve_registeredmodel", model)
    from registry.selectors import registered_model_list

    assert list(registered_model_list(external)) == [RegisteredModel.objects.get(pk=model.pk)]
    model_role_revoke(actor=administrator, assignment=assignment)
    external = type(external).objects.get(pk=external.pk)
    assert not external.has_perm("registry.view_registeredmodel", model)
