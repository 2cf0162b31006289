"""The single sign-on's account sync (``sso_user_sync``) and linking, from verified claims: it
creates an account only for an unknown name, never takes one over, refreshes name and e-mail,
and shares the group sync with LDAP (grants what groups imply, takes back only what the same
source granted, leaves manual and directory grants alone, and names provider and group in the
audit chain)."""

from __future__ import annotations

import pytest

from accounts.choices import GrantSource, RoleName, SignOnRefusal
from accounts.models import ExternalIdentity, RoleAssignment, TeamMembership, User
from accounts.services import role_assign, team_add_member
from accounts.services.identities import (
    SignOnRefused,
    external_identity_link,
    external_identity_unlink,
    sso_user_sync,
)
from config import sso
from core.errors import Conflict, Forbidden
from core.models import AuditEvent
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

OKTA = sso.oidc_provider(
    issuer="https://example.okta.com",
    client_id="steward",
    name="Okta",
    group_roles={"Validators": "validator", "Credit Risk": "contributor@credit-risk"},
    group_teams={"Credit Risk": "credit-risk"},
)


def claims(username="dana", groups=("Validators",), **extra):
    return {
        "sub": f"00u-{username}",
        "preferred_username": username,
        "email": f"{username}@example.com",
        "name": username.title() + " Example",
        "groups": list(groups),
        **extra,
    }


def roles_of(user):
    return {
        (a.role.name, a.team.slug if a.team_id else None, a.source)
        for a in RoleAssignment.objects.filter(user=user).select_related("role", "team")
    }


def test_it_creates_the_account_at_the_first_sign_on():
    user = sso_user_sync(provider=OKTA, claims=claims(groups=["Validators", "Credit Risk"]))

    assert (user.username, user.email, user.display_name) == (
        "dana",
        "dana@example.com",
        "Dana Example",
    )
    assert not user.has_usable_password()
    assert ExternalIdentity.objects.get(user=user).subject == "00u-dana"
    assert roles_of(user) == {
        (RoleName.VALIDATOR, None, GrantSource.OIDC),
        (RoleName.CONTRIBUTOR, "credit-risk", GrantSource.OIDC),
    }
    joined = AuditEvent.objects.get(action="team.join")
    assert joined.data["provider"] == "oidc:okta" and joined.data["group"] == "Credit Risk"
    assert AuditEvent.objects.filter(action="account.create", data__subject="00u-dana").exists()


def test_it_refreshes_name_and_email_and_follows_the_groups():
    user = sso_user_sync(provider=OKTA, claims=claims(groups=["Validators", "Credit Risk"]))

    again = sso_user_sync(
        provider=OKTA, claims=claims(groups=["Credit Risk"], email="dana@new.example")
    )

    assert again == user
    user.refresh_from_db()
    assert user.email == "dana@new.example"
    assert roles_of(user) == {(RoleName.CONTRIBUTOR, "credit-risk", GrantSource.OIDC)}
    revoked = AuditEvent.objects.get(action="role.revoke")
    assert revoked.data == {
        **revoked.data,
        "provider": "oidc:okta",
        "group": "Validators",
        "reason": "not in the group any more",
    }

    sso_user_sync(provider=OKTA, claims=claims(groups=[]))
    assert not TeamMembership.objects.filter(user=user).exists()
    left = AuditEvent.objects.get(action="team.leave")
    assert (left.data["provider"], left.data["group"]) == ("oidc:okta", "Credit Risk")


def test_manual_and_directory_grants_are_never_taken_back():
    user = sso_user_sync(provider=OKTA, claims=claims(groups=[]))
    team = TeamFactory(slug="marketing")
    role_assign(user=user, role=RoleName.AUDITOR)  # by an administrator
    role_assign(user=user, role=RoleName.MANAGER, source=GrantSource.LDAP)  # by the directory
    team_add_member(team=team, user=user)

    sso_user_sync(provider=OKTA, claims=claims(groups=[]))

    assert roles_of(user) == {
        (RoleName.AUDITOR, None, GrantSource.MANUAL),
        (RoleName.MANAGER, None, GrantSource.LDAP),
    }
    assert TeamMembership.objects.filter(user=user, team=team).exists()


def test_a_local_account_of_the_same_name_is_not_taken_over():
    local = UserFactory(username="dana")

    with pytest.raises(SignOnRefused) as refused:
        sso_user_sync(provider=OKTA, claims=claims())

    assert refused.value.reason == SignOnRefusal.EXISTING_ACCOUNT
    assert refused.value.subject == "00u-dana"
    assert not ExternalIdentity.objects.exists()
    assert roles_of(local) == set()


def test_a_differently_cased_name_is_not_taken_over_either():
    UserFactory(username="Dana")
    with pytest.raises(SignOnRefused, match="exists and is not linked"):
        sso_user_sync(provider=OKTA, claims=claims())


def test_no_account_is_created_when_creation_is_off():
    provider = sso.oidc_provider(issuer=OKTA.issuer, client_id="steward", create_users=False)
    with pytest.raises(SignOnRefused) as refused:
        sso_user_sync(provider=provider, claims=claims())
    assert refused.value.reason == SignOnRefusal.UNKNOWN_USER
    assert not User.objects.filter(username="dana").exists()


def test_a_linked_account_signs_in_whatever_the_name_claim_says(administrator):
    local = UserFactory(username="d.smith")
    external_identity_link(actor=administrator, user=local, provider="okta", subject="00u-dana")

    assert sso_user_sync(provider=OKTA, claims=claims()) == local
    assert AuditEvent.objects.filter(action="identity.link", data__user="d.smith").exists()


def test_a_deactivated_linked_account_is_refused():
    user = sso_user_sync(provider=OKTA, claims=claims())
    user.is_active = False
    user.save()
    with pytest.raises(SignOnRefused) as refused:
        sso_user_sync(provider=OKTA, claims=claims())
    assert refused.value.reason == SignOnRefusal.INACTIVE


@pytest.mark.parametrize(
    "bad",
    [{"sub": ""}, {"preferred_username": None}, {"preferred_username": "has space/slash"}],
)
def test_unusable_claims_are_refused(bad):
    with pytest.raises(SignOnRefused) as refused:
        sso_user_sync(provider=OKTA, claims=claims(**bad))
    assert refused.value.reason == SignOnRefusal.CLAIMS
    assert not User.objects.exists()


def test_only_administrators_link_and_unlink(administrator, contributor):
    target = UserFactory(username="target")
    with pytest.raises(Forbidden):
        external_identity_link(actor=contributor, user=target, provider="okta", subject="s")
    identity = external_identity_link(
        actor=administrator, user=target, provider="okta", subject="s"
    )
    with pytest.raises(Conflict):
        external_identity_link(actor=administrator, user=contributor, provider="okta", subject="s")
    with pytest.raises(Forbidden):
        external_identity_unlink(actor=contributor, identity=identity)
    external_identity_unlink(actor=administrator, identity=identity)
    assert not ExternalIdentity.objects.exists()
    assert AuditEvent.objects.filter(action="identity.unlink").count() == 1
