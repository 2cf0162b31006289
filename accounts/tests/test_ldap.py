"""LDAP login against a real, throwaway slapd (tests/ldap_server.py): who gets in, what their
Steward record says afterwards, what happens when the directory is down, and that a username
cannot rewrite the directory search."""

from __future__ import annotations

import socket
import time

import ldap
import pytest
from auditlog.models import LogEntry
from django.contrib.auth import authenticate
from django.test import RequestFactory

from accounts.choices import GrantSource, RoleName
from accounts.models import RoleAssignment, Team, TeamMembership, User
from accounts.services import role_assign, team_add_member
from accounts.services.login_audit import DIRECTORY_UNREACHABLE_MESSAGE
from config.directory import DEFAULT_USER_FILTER, LDAP_BACKEND
from tests.directory_data import (
    METACHAR_UID,
    PASSWORDS,
    PEOPLE,
    group_dn,
    ldap_settings_apply,
    person_dn,
)
from tests.factories import PASSWORD, TeamFactory, UserFactory

# The throwaway slapd and its fixtures (ldap_server, ldap_directory, ldap_login).
pytest_plugins = ["tests.ldap_server"]

pytestmark = pytest.mark.django_db


def login_request():
    return RequestFactory().post("/login/")


def ldap_authenticate(username: str, password: str, request=None):
    request = request if request is not None else login_request()
    return authenticate(request=request, username=username, password=password)


def roles_of(user: User) -> set[tuple[str, str | None, str]]:
    return {
        (a.role.name, a.team.slug if a.team_id else None, a.source)
        for a in RoleAssignment.objects.filter(user=user).select_related("role", "team")
    }


def teams_of(user: User) -> set[tuple[str, str]]:
    return {
        (m.team.slug, m.source)
        for m in TeamMembership.objects.filter(user=user).select_related("team")
    }


# --- who gets in -------------------------------------------------------------------------


def test_it_creates_the_user_from_the_directory_entry(ldap_login):
    request = login_request()

    user = ldap_authenticate("alice", PASSWORDS["alice"], request)

    assert user is not None and user.backend == LDAP_BACKEND
    user.refresh_from_db()
    assert user.username == "alice"
    assert (user.first_name, user.last_name) == ("Alice", "Archer")
    assert user.email == "alice@steward.test"
    assert user.display_name == "Alice Archer (Model Validation)"
    assert user.directory_dn == person_dn("alice")
    # Only the directory knows the password: the account cannot log in locally.
    assert not user.has_usable_password()
    assert not hasattr(request, "steward_directory_error")


def test_it_updates_the_user_from_the_directory_at_each_login(ldap_login):
    first = ldap_authenticate("alice", PASSWORDS["alice"])
    ldap_login.replace(
        person_dn("alice"), "mail", "a.archer@steward.test", was="alice@steward.test"
    )
    ldap_login.replace(person_dn("alice"), "sn", "Archer-Smith", was="Archer")

    again = ldap_authenticate("ALICE", PASSWORDS["alice"])

    assert again.pk == first.pk
    again.refresh_from_db()
    assert again.email == "a.archer@steward.test"
    assert again.last_name == "Archer-Smith"
    assert User.objects.count() == 1


def test_it_refuses_a_wrong_password(ldap_login):
    assert ldap_authenticate("alice", "not-alices-password") is None
    assert not User.objects.filter(username="alice").exists()


def test_it_refuses_an_empty_password(ldap_login):
    """An LDAP simple bind with a DN and no password is an anonymous bind, which succeeds: the
    backend must refuse it before asking the directory."""
    assert ldap_authenticate("alice", "") is None


def test_it_refuses_an_unknown_user(ldap_login):
    request = login_request()

    assert ldap_authenticate("mallory", "whatever-she-tries", request) is None

    assert not User.objects.filter(username="mallory").exists()
    assert not hasattr(request, "steward_directory_error")


def test_it_logs_in_the_real_login_page(client, ldap_login):
    response = client.post("/login/", {"username": "carol", "password": PASSWORDS["carol"]})

    assert response.status_code == 302
    assert response.url == "/models/"
    carol = User.objects.get(username="carol")
    assert client.session["_auth_user_id"] == str(carol.pk)
    assert client.session["_auth_user_backend"] == LDAP_BACKEND
    assert client.get("/models/").status_code == 200


def test_it_logs_in_over_start_tls_with_the_directory_ca(settings, ldap_directory):
    ldap_settings_apply(settings, ldap_directory, start_tls=True, ca_file=ldap_directory.ca_file)

    assert ldap_authenticate("alice", PASSWORDS["alice"]) is not None


def test_it_refuses_a_directory_whose_certificate_it_cannot_verify(settings, ldap_directory):
    """StartTLS really verifies: trusting only the public CAs, the test server's certificate
    (signed by python-ldap's test CA) is refused and nobody logs in through it."""
    ldap_settings_apply(
        settings, ldap_directory, start_tls=True, ca_file="/etc/ssl/certs/ca-certificates.crt"
    )
    request = login_request()

    assert ldap_authenticate("alice", PASSWORDS["alice"], request) is None
    assert request.steward_directory_error


# --- local accounts beside the directory -------------------------------------------------


def test_it_still_logs_in_local_accounts(ldap_login):
    local = UserFactory(username="lena")

    user = ldap_authenticate("lena", PASSWORD)

    assert user == local
    assert user.backend == "django.contrib.auth.backends.ModelBackend"


def test_it_does_not_hand_a_local_account_to_the_directory_user_of_the_same_name(ldap_login):
    """A local account (say a break-glass administrator) is not taken over by whoever holds
    the same uid in the directory; an administrator links the two by setting its DN."""
    local = UserFactory(username="alice", is_superuser=True)

    assert ldap_authenticate("alice", PASSWORDS["alice"]) is None
    local.refresh_from_db()
    assert local.directory_dn == "" and local.email == "alice@example.org"
    assert ldap_authenticate("alice", PASSWORD) == local  # its own password still works

    local.directory_dn = person_dn("alice")
    local.save(update_fields=["directory_dn"])
    assert ldap_authenticate("alice", PASSWORDS["alice"]) == local


# --- groups -> teams and roles -------------------------------------------------------------


def test_it_maps_directory_groups_to_teams_and_roles(ldap_login):
    alice = ldap_authenticate("alice", PASSWORDS["alice"])

    # model-validators -> validator everywhere; credit-risk-team -> Credit Risk, contributor
    # there. The unmapped group gives nothing.
    assert roles_of(alice) == {
        (RoleName.VALIDATOR, None, GrantSource.LDAP),
        (RoleName.CONTRIBUTOR, "credit-risk", GrantSource.LDAP),
    }
    assert teams_of(alice) == {("credit-risk", GrantSource.LDAP)}
    team = Team.objects.get(slug="credit-risk")
    assert team.name == "Credit Risk"
    validator = RoleAssignment.objects.get(user=alice, role__name=RoleName.VALIDATOR)
    assert validator.granted_by is None
    assert validator.note == f"Directory group {group_dn('model-validators')}"
    # Every grant is in the audit log, like a grant by an administrator.
    assert LogEntry.objects.get_for_object(validator).filter(action=LogEntry.Action.CREATE)
    membership = TeamMembership.objects.get(user=alice)
    assert LogEntry.objects.get_for_object(membership).exists()


def test_it_joins_the_existing_team_a_group_names(ldap_login):
    team = TeamFactory(name="Credit Risk", slug="credit-risk")

    carol = ldap_authenticate("carol", PASSWORDS["carol"])

    assert list(carol.teams.all()) == [team]
    assert Team.objects.count() == 1


def test_it_gives_the_role_of_a_group_nested_in_a_mapped_group(ldap_login):
    bob = ldap_authenticate("bob", PASSWORDS["bob"])

    assert roles_of(bob) == {(RoleName.VALIDATOR, None, GrantSource.LDAP)}
    assert teams_of(bob) == set()


def test_it_matches_group_dns_whatever_their_spelling(settings, ldap_directory):
    ldap_settings_apply(
        settings,
        ldap_directory,
        group_roles={"CN=Model-Validators, OU=Groups, DC=steward, DC=test": "validator"},
        group_teams={},
    )

    bob = ldap_authenticate("bob", PASSWORDS["bob"])

    assert roles_of(bob) == {(RoleName.VALIDATOR, None, GrantSource.LDAP)}


def test_it_takes_away_what_the_directory_no_longer_grants_at_the_next_login(ldap_login):
    erin = ldap_authenticate("erin", PASSWORDS["erin"])
    marketing = TeamFactory(name="Marketing", slug="marketing")
    team_add_member(team=marketing, user=erin)
    role_assign(user=erin, role=RoleName.AUDITOR)
    assert roles_of(erin) == {
        (RoleName.VALIDATOR, None, GrantSource.LDAP),
        (RoleName.CONTRIBUTOR, "credit-risk", GrantSource.LDAP),
        (RoleName.AUDITOR, None, GrantSource.MANUAL),
    }
    validator = RoleAssignment.objects.get(user=erin, role__name=RoleName.VALIDATOR)
    validator_pk = validator.pk

    ldap_login.remove_member(group_dn("model-validators"), person_dn("erin"))
    ldap_login.remove_member(group_dn("credit-risk-team"), person_dn("erin"))
    erin = ldap_authenticate("erin", PASSWORDS["erin"])

    # What the directory granted is gone; what an administrator granted stays.
    assert roles_of(erin) == {(RoleName.AUDITOR, None, GrantSource.MANUAL)}
    assert teams_of(erin) == {("marketing", GrantSource.MANUAL)}
    assert not erin.has_perm("registry.validate_registeredmodel")
    revoked = LogEntry.objects.filter(
        content_type__model="roleassignment", object_pk=str(validator_pk)
    )
    assert revoked.filter(action=LogEntry.Action.DELETE).exists()


def test_it_leaves_a_manual_grant_alone_when_the_directory_also_grants_it(ldap_login):
    """The directory granting what an administrator already granted does not make the grant
    the directory's, so leaving the group does not take it away."""
    carol = UserFactory(username="carol", directory_dn=person_dn("carol"))
    carol.set_unusable_password()
    carol.save()
    team = TeamFactory(name="Credit Risk", slug="credit-risk")
    role_assign(user=carol, role=RoleName.CONTRIBUTOR, team=team)
    team_add_member(team=team, user=carol)

    ldap_authenticate("carol", PASSWORDS["carol"])
    ldap_login.remove_member(group_dn("credit-risk-team"), person_dn("carol"))
    ldap_authenticate("carol", PASSWORDS["carol"])

    assert roles_of(carol) == {(RoleName.CONTRIBUTOR, "credit-risk", GrantSource.MANUAL)}
    assert teams_of(carol) == {("credit-risk", GrantSource.MANUAL)}


def test_it_takes_away_directory_grants_when_no_group_is_mapped_any_more(settings, ldap_login):
    dave = ldap_authenticate("dave", PASSWORDS["dave"])
    assert teams_of(dave) == {("marketing", GrantSource.LDAP)}

    ldap_settings_apply(settings, ldap_login, group_roles={}, group_teams={})
    dave = ldap_authenticate("dave", PASSWORDS["dave"])

    assert roles_of(dave) == set() and teams_of(dave) == set()


# --- the directory is down ------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_it_reports_an_unreachable_directory_and_lets_local_accounts_in(settings, ldap_directory):
    ldap_settings_apply(settings, ldap_directory, server_uri=f"ldap://127.0.0.1:{closed_port()}")
    local = UserFactory(username="lena")
    request = login_request()

    started = time.monotonic()
    assert ldap_authenticate("alice", PASSWORDS["alice"], request) is None
    assert time.monotonic() - started < 2

    assert request.steward_directory_error.startswith("Directory unreachable")
    assert ldap_authenticate("lena", PASSWORD) == local


def test_it_gives_up_on_a_directory_that_never_answers(settings, ldap_directory):
    """A server that accepts the connection and then says nothing (a hung slapd, a firewall
    that swallows packets) costs one timeout, not the web worker."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        ldap_settings_apply(
            settings, ldap_directory, server_uri=f"ldap://127.0.0.1:{port}", timeout=1
        )
        request = login_request()

        started = time.monotonic()
        assert ldap_authenticate("alice", PASSWORDS["alice"], request) is None
        assert time.monotonic() - started < 3

    assert request.steward_directory_error == "Directory unreachable: Timed out"


def test_the_login_page_says_the_directory_is_down_not_that_the_password_is_wrong(
    client, settings, ldap_directory
):
    ldap_settings_apply(settings, ldap_directory, server_uri=f"ldap://127.0.0.1:{closed_port()}")

    response = client.post("/login/", {"username": "alice", "password": PASSWORDS["alice"]})

    assert response.status_code == 200
    assert DIRECTORY_UNREACHABLE_MESSAGE in response.content.decode()
    assert "_auth_user_id" not in client.session


# --- a username cannot rewrite the search -------------------------------------------------


@pytest.fixture
def sent_searches(monkeypatch) -> list[tuple[str, str]]:
    """(base, filter) of every search Steward sends to the directory, as sent."""
    searches: list[tuple[str, str]] = []
    original = ldap.ldapobject.SimpleLDAPObject.search_ext

    def spy(self, base, scope, filterstr="(objectClass=*)", *args, **kwargs):
        searches.append((base, filterstr))
        return original(self, base, scope, filterstr, *args, **kwargs)

    monkeypatch.setattr(ldap.ldapobject.SimpleLDAPObject, "search_ext", spy)
    return searches


INJECTIONS = ["*", "alic*", "alice)(uid=*", "*)(|(uid=*", "*)(uid=alice", "alice)(|(uid=*)"]


@pytest.mark.parametrize("username", INJECTIONS)
def test_a_username_with_filter_metacharacters_matches_no_one(ldap_login, sent_searches, username):
    """With alice's real password, none of these gets anyone in, and the filter that reached
    the directory matches no entry at all: the username was escaped, not interpreted."""
    request = login_request()

    assert ldap_authenticate(username, PASSWORDS["alice"], request) is None

    assert not User.objects.exists()
    assert not hasattr(request, "steward_directory_error")  # the filter was valid, too
    user_searches = [f for base, f in sent_searches if base == PEOPLE]
    assert user_searches, "the user search was not sent"
    for filterstr in user_searches:
        assert ldap_login.search(PEOPLE, filterstr) == []


def test_the_injection_test_would_catch_an_unescaped_filter(ldap_login):
    """Pasted in as is, ``alic*`` matches exactly alice, so the login above would have let it
    in with her password, and ``*`` matches everyone: the test above is not vacuous."""
    assert ldap_login.search(PEOPLE, DEFAULT_USER_FILTER % {"user": "alic*"}) == [
        person_dn("alice")
    ]
    assert len(ldap_login.search(PEOPLE, DEFAULT_USER_FILTER % {"user": "*"})) == len(PASSWORDS)


def test_a_uid_made_of_metacharacters_logs_in_as_itself_and_only_itself(ldap_login):
    user = ldap_authenticate(METACHAR_UID, PASSWORDS[METACHAR_UID])

    assert user is not None
    assert user.directory_dn == person_dn(METACHAR_UID)
    assert ldap_authenticate("star*", PASSWORDS[METACHAR_UID]) is None
    assert ldap_authenticate("star", PASSWORDS[METACHAR_UID]) is None
    assert User.objects.count() == 1
