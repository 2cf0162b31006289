"""SAML sign-on against a real IdP (pysaml2's Server in its own process), driven over HTTP: a
sign-on that works, and every way one must be refused (unsigned, wrongly signed, another
audience, expired, replayed, unsolicited, unknown person), each recorded in the login audit
with its reason, from real responses."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from accounts.choices import GrantSource, LoginOutcome, RoleName, SignOnRefusal
from accounts.models import ExternalIdentity, LoginEvent, RoleAssignment, SamlMessageUse, User
from core.models import AuditEvent
from tests.factories import UserFactory
from tests.sso.saml_flows import sign_on, sign_on_until_acs
from tests.sso.saml_people import name_id
from tests.sso.server import free_port

pytest_plugins = ["tests.sso.saml_server"]
pytestmark = pytest.mark.django_db(transaction=True)

METHOD = "saml:testsaml"
LANDING = "/models/"  # LOGIN_REDIRECT_URL


def roles_of(user: User) -> set[tuple[str, str | None, str]]:
    return {
        (a.role.name, a.team.slug if a.team_id else None, a.source)
        for a in RoleAssignment.objects.filter(user=user).select_related("role", "team")
    }


def refusal(reason: str) -> LoginEvent:
    event = LoginEvent.objects.filter(method=METHOD).exclude(outcome=LoginOutcome.SUCCESS).last()
    assert event is not None, "no refusal was recorded"
    assert event.detail.startswith(f"{reason}:"), event.detail
    return event


def assert_signed_out(browser: requests.Session, base: str) -> None:
    response = browser.get(f"{base}/models/", allow_redirects=False, timeout=10)
    assert response.status_code == 302 and "/login/" in response.headers["Location"]


def assert_refused_on_sign_in_page(response: requests.Response) -> None:
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login/")


def test_it_signs_a_new_person_in_and_maps_their_groups(saml_idp, live_server):
    browser, response = sign_on(live_server.url, "alice", next_url="/models/")

    assert response.status_code == 302, response.text[:300]
    assert response.headers["Location"] == "/models/"
    assert browser.get(f"{live_server.url}/models/", timeout=10).status_code == 200
    alice = User.objects.get(username="alice")
    assert (alice.email, alice.display_name) == ("alice@saml.example", "Alice Adler")
    assert not alice.has_usable_password()
    identity = ExternalIdentity.objects.get(user=alice)
    assert (identity.provider, identity.subject) == ("testsaml", name_id("alice"))
    assert roles_of(alice) == {
        (RoleName.VALIDATOR, None, GrantSource.SAML),
        (RoleName.CONTRIBUTOR, "credit-risk", GrantSource.SAML),
    }
    assert set(alice.memberships.values_list("team__slug", "source")) == {
        ("credit-risk", GrantSource.SAML)
    }
    login = LoginEvent.objects.get(user=alice, outcome=LoginOutcome.SUCCESS)
    assert (login.method, login.subject) == (METHOD, name_id("alice"))
    grant = AuditEvent.objects.get(action="role.grant", data__role=RoleName.VALIDATOR)
    assert (grant.data["provider"], grant.data["group"]) == (METHOD, "steward-validators")


def test_a_removed_group_takes_the_role_away_at_the_next_sign_on(saml_idp, live_server):
    sign_on(live_server.url, "alice")
    alice = User.objects.get(username="alice")
    from accounts.services import role_assign

    role_assign(user=alice, role=RoleName.AUDITOR)  # by hand: the IdP never takes it
    saml_idp.set_groups("alice", ["credit-risk"])

    browser, response = sign_on(live_server.url, "alice")

    assert response.status_code == 302
    assert roles_of(alice) == {
        (RoleName.CONTRIBUTOR, "credit-risk", GrantSource.SAML),
        (RoleName.AUDITOR, None, GrantSource.MANUAL),
    }
    revoke = AuditEvent.objects.get(action="role.revoke")
    assert (revoke.data["provider"], revoke.data["group"]) == (METHOD, "steward-validators")


@pytest.mark.parametrize(
    ("fault", "reason", "says"),
    [
        ("unsigned", SignOnRefusal.SIGNATURE, "not signed"),
        ("response_only", SignOnRefusal.SIGNATURE, "assertion is not signed"),
        ("wrong_key", SignOnRefusal.SIGNATURE, "does not verify"),
        ("wrong_audience", SignOnRefusal.AUDIENCE, "another service provider"),
        ("wrong_recipient", SignOnRefusal.AUDIENCE, "another recipient"),
        ("expired", SignOnRefusal.EXPIRED, "expired"),
    ],
)
def test_a_bad_assertion_is_refused_and_audited(saml_idp, live_server, fault, reason, says):
    saml_idp.fault(fault)

    browser, response = sign_on(live_server.url, "alice")

    assert_refused_on_sign_in_page(response)
    assert_signed_out(browser, live_server.url)
    assert says in refusal(reason).detail
    assert not User.objects.filter(username="alice").exists()
    assert not SamlMessageUse.objects.exists()


def test_a_replayed_response_is_refused_in_any_browser(saml_idp, live_server):
    browser, action, form = sign_on_until_acs(live_server.url, "bob")
    first = browser.post(action, data=form, allow_redirects=False, timeout=10)
    assert first.status_code == 302 and first.headers["Location"] == LANDING

    again = browser.post(action, data=form, allow_redirects=False, timeout=10)
    assert_refused_on_sign_in_page(again)
    assert "used before" in refusal(SignOnRefusal.REPLAY).detail
    # An attacker's own browser, with its own outstanding request, fares no better.
    attacker, _, _ = sign_on_until_acs(live_server.url, "alice")
    stolen = attacker.post(action, data=form, allow_redirects=False, timeout=10)
    assert_refused_on_sign_in_page(stolen)
    assert_signed_out(attacker, live_server.url)
    assert LoginEvent.objects.filter(method=METHOD, detail__startswith="replay:").count() == 2


def test_uses_are_forgotten_long_after_their_messages_expired(saml_idp, live_server):
    old = SamlMessageUse.objects.create(issuer="https://idp.example/", message_id="_old")
    SamlMessageUse.objects.filter(pk=old.pk).update(used_at=timezone.now() - timedelta(days=3))

    sign_on(live_server.url, "bob")

    assert not SamlMessageUse.objects.filter(message_id="_old").exists()
    assert SamlMessageUse.objects.count() == 2  # bob's response and assertion


def test_a_response_no_sign_on_of_this_browser_asked_for_is_refused(saml_idp, live_server):
    _, action, form = sign_on_until_acs(live_server.url, "bob")
    stranger = requests.Session()

    response = stranger.post(action, data=form, allow_redirects=False, timeout=10)

    assert_refused_on_sign_in_page(response)
    refusal(SignOnRefusal.UNSOLICITED)
    assert not User.objects.filter(username="bob").exists()


def test_garbage_at_the_consumer_is_a_refusal_not_a_500(saml_idp, live_server):
    for body in ({}, {"SAMLResponse": "not base64 at all!"}, {"SAMLResponse": "PGZvbz4="}):
        response = requests.post(
            f"{live_server.url}/saml/acs/", data=body, allow_redirects=False, timeout=10
        )
        assert_refused_on_sign_in_page(response)
    assert requests.get(f"{live_server.url}/saml/acs/", timeout=10).status_code == 405
    assert LoginEvent.objects.filter(method=METHOD, outcome=LoginOutcome.FAILURE).count() == 3


def test_a_local_account_is_never_taken_over_by_the_same_name(saml_idp, live_server):
    root = UserFactory(username="root")

    browser, response = sign_on(live_server.url, "root")

    assert_refused_on_sign_in_page(response)
    assert_signed_out(browser, live_server.url)
    event = refusal(SignOnRefusal.EXISTING_ACCOUNT)
    assert event.subject == name_id("root")
    assert not ExternalIdentity.objects.filter(user=root).exists()


def test_an_administrator_links_an_account_and_its_owner_signs_in_as_it(
    saml_idp, live_server, administrator
):
    from accounts.services.identities import external_identity_link

    root = UserFactory(username="root")
    external_identity_link(
        actor=administrator, user=root, provider="testsaml", subject=name_id("root")
    )

    browser, response = sign_on(live_server.url, "root")

    assert response.status_code == 302 and response.headers["Location"] == LANDING
    login = LoginEvent.objects.get(method=METHOD, outcome=LoginOutcome.SUCCESS)
    assert (login.user, login.subject) == (root, name_id("root"))
    assert User.objects.filter(username__iexact="root").count() == 1


def test_an_unknown_person_is_refused_when_accounts_are_not_created(
    saml_idp, live_server, settings
):
    from tests.sso.saml_server import saml_settings_apply

    saml_settings_apply(settings, saml_idp, create_users=False)

    browser, response = sign_on(live_server.url, "bob")

    assert_refused_on_sign_in_page(response)
    event = refusal(SignOnRefusal.UNKNOWN_USER)
    assert "STEWARD_SAML_CREATE_USERS is off" in event.detail
    assert event.subject == name_id("bob")
    assert not User.objects.filter(username="bob").exists()


def test_next_off_the_site_is_not_followed(saml_idp, live_server):
    _, response = sign_on(live_server.url, "bob", next_url="https://evil.example/")
    assert response.headers["Location"] == LANDING


def test_a_tampered_relay_state_is_not_followed(saml_idp, live_server):
    browser, action, form = sign_on_until_acs(live_server.url, "bob", next_url="/datasets/")
    form["RelayState"] = "https://evil.example/"
    response = browser.post(action, data=form, allow_redirects=False, timeout=10)
    assert response.headers["Location"] == "/datasets/"  # what this browser asked for


def test_signing_out_ends_the_steward_session(saml_idp, live_server):
    browser, response = sign_on(live_server.url, "bob")
    page = browser.get(f"{live_server.url}/models/", timeout=10)
    token = browser.cookies.get("csrftoken")
    assert page.status_code == 200 and token

    browser.post(
        f"{live_server.url}/logout/",
        data={"csrfmiddlewaretoken": token},
        headers={"Referer": f"{live_server.url}/models/"},
        timeout=10,
    )

    assert_signed_out(browser, live_server.url)


def test_the_metadata_url_works_and_the_idp_down_gives_a_clear_message(
    saml_idp, live_server, settings
):
    from tests.sso.saml_server import saml_settings_apply

    saml_settings_apply(settings, saml_idp, metadata_url=saml_idp.metadata_url)
    _, response = sign_on(live_server.url, "bob")
    assert response.status_code == 302 and response.headers["Location"] == LANDING

    dead = f"http://127.0.0.1:{free_port()}/metadata/"  # nothing listens there
    saml_settings_apply(settings, saml_idp, metadata_url=dead)
    browser = requests.Session()
    response = browser.get(f"{live_server.url}/saml/login/?next=/models/", timeout=10)

    assert response.status_code == 200
    assert "could not be reached" in response.text
    assert "local accounts can still sign in" in response.text
    event = LoginEvent.objects.filter(method=METHOD, outcome=LoginOutcome.ERROR).get()
    assert event.detail.startswith("provider_unreachable:")


def test_the_sp_metadata_is_served_at_a_stable_url(saml_idp, live_server):
    response = requests.get(f"{live_server.url}/saml/metadata/", timeout=10)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    body = response.text
    assert 'entityID="https://steward.test/saml/metadata/"' in body
    assert f'Location="{live_server.url}/saml/acs/"' in body
    assert 'WantAssertionsSigned="true"' in body and 'AuthnRequestsSigned="true"' in body
    assert "X509Certificate" in body and "RequestedAttribute" in body
