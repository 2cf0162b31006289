"""Single sign-on against a real OpenID Connect provider (django-oauth-toolkit in its own
process), driven over HTTP: a sign-on that works, and every way one must be refused, each
recorded in the login audit with its reason."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from accounts.choices import GrantSource, LoginOutcome, RoleName, SignOnRefusal
from accounts.models import ExternalIdentity, LoginEvent, RoleAssignment, User
from core.models import AuditEvent
from tests.factories import UserFactory
from tests.sso.flows import sign_on_until_callback

pytest_plugins = ["tests.sso.server"]
pytestmark = pytest.mark.django_db(transaction=True)

METHOD = "oidc:testidp"


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


def test_it_signs_a_new_person_in_and_maps_their_groups(idp, live_server):
    browser, callback = sign_on_until_callback(live_server.url, "alice", next_url="/models/")
    query = parse_qs(urlsplit(callback).query)
    assert set(query) >= {"code", "state"}

    response = browser.get(callback, allow_redirects=False, timeout=10)

    assert response.status_code == 302
    assert response.headers["Location"] == "/models/"
    assert browser.get(f"{live_server.url}/models/", timeout=10).status_code == 200
    alice = User.objects.get(username="alice")
    assert (alice.email, alice.display_name) == ("alice@idp.example", "Alice Adler")
    assert not alice.has_usable_password()
    assert ExternalIdentity.objects.get(user=alice).subject == "uid-alice"
    assert roles_of(alice) == {
        (RoleName.VALIDATOR, None, GrantSource.OIDC),
        (RoleName.CONTRIBUTOR, "credit-risk", GrantSource.OIDC),
    }
    assert set(alice.memberships.values_list("team__slug", "source")) == {
        ("credit-risk", GrantSource.OIDC)
    }
    login = LoginEvent.objects.get(user=alice, outcome=LoginOutcome.SUCCESS)
    assert (login.method, login.subject) == (METHOD, "uid-alice")
    grant = AuditEvent.objects.get(action="role.grant", data__role=RoleName.VALIDATOR)
    assert (grant.data["provider"], grant.data["group"]) == (METHOD, "steward-validators")


def test_a_removed_group_takes_the_role_away_at_the_next_sign_on(idp, live_server):
    browser, callback = sign_on_until_callback(live_server.url, "alice")
    browser.get(callback, allow_redirects=False, timeout=10)
    alice = User.objects.get(username="alice")
    from accounts.services import role_assign

    role_assign(user=alice, role=RoleName.AUDITOR)  # by hand: the provider never takes it
    idp.set_groups("alice", ["credit-risk"])

    browser, callback = sign_on_until_callback(live_server.url, "alice")
    assert browser.get(callback, allow_redirects=False, timeout=10).status_code == 302

    assert roles_of(alice) == {
        (RoleName.CONTRIBUTOR, "credit-risk", GrantSource.OIDC),
        (RoleName.AUDITOR, None, GrantSource.MANUAL),
    }
    revoked = AuditEvent.objects.get(action="role.revoke", data__role=RoleName.VALIDATOR)
    assert (revoked.data["provider"], revoked.data["group"]) == (METHOD, "steward-validators")


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("tamper", SignOnRefusal.SIGNATURE),
        ("audience", SignOnRefusal.AUDIENCE),
        ("expired", SignOnRefusal.EXPIRED),
        ("nonce", SignOnRefusal.NONCE),
    ],
)
def test_a_bad_id_token_is_refused_and_audited(idp, live_server, fault, reason):
    """The provider (made faulty) issues a spoilt ID token: nobody is signed in, no account
    is created, and the refusal names why."""
    browser, callback = sign_on_until_callback(live_server.url, "bob")
    idp.fault(fault)

    response = browser.get(callback, allow_redirects=False, timeout=10)

    assert response.status_code == 302 and response.headers["Location"].startswith("/login/")
    assert_signed_out(browser, live_server.url)
    assert not User.objects.filter(username__in=["bob", "admin"]).exists()
    refusal(reason)
    page = browser.get(f"{live_server.url}/login/", timeout=10).text
    assert "Sign-in with Test IdP was refused" in page


def test_a_replayed_code_is_refused(idp, live_server):
    browser, callback = sign_on_until_callback(live_server.url, "bob")
    assert browser.get(callback, allow_redirects=False, timeout=10).headers["Location"] == (
        "/models/"
    )
    code = parse_qs(urlsplit(callback).query)["code"][0]
    # An attacker who saw the code starts a sign-on of their own (a fresh, valid state) and
    # hands Steward the used code with it.
    attacker = requests.Session()
    start = attacker.get(f"{live_server.url}/oidc/authenticate/", allow_redirects=False)
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]

    response = attacker.get(
        f"{live_server.url}/oidc/callback/",
        params={"code": code, "state": state},
        allow_redirects=False,
        timeout=10,
    )

    assert response.headers["Location"].startswith("/login/")
    assert_signed_out(attacker, live_server.url)
    refusal(SignOnRefusal.CODE_REFUSED)


def test_a_callback_with_an_unknown_or_used_state_is_refused(idp, live_server):
    browser, callback = sign_on_until_callback(live_server.url, "bob")
    stranger = requests.Session()  # not the browser that started the sign-on (login CSRF)

    response = stranger.get(callback, allow_redirects=False, timeout=10)

    assert response.headers["Location"].startswith("/login/")
    refusal(SignOnRefusal.BAD_STATE)
    assert browser.get(callback, allow_redirects=False).headers["Location"] == "/models/"
    # The same callback again, in the browser that used it: its state is used up.
    again = browser.get(callback, allow_redirects=False, timeout=10)
    assert again.headers["Location"].startswith("/login/")
    assert LoginEvent.objects.filter(detail__startswith="bad_state:").count() == 2


def test_a_local_account_is_never_taken_over_by_the_same_name(idp, live_server):
    root = UserFactory(username="root")
    root.set_password("local-pass-123")
    root.save()
    browser, callback = sign_on_until_callback(live_server.url, "root")

    response = browser.get(callback, allow_redirects=False, timeout=10)

    assert response.headers["Location"].startswith("/login/")
    assert_signed_out(browser, live_server.url)
    assert not ExternalIdentity.objects.exists()
    assert roles_of(root) == set()
    event = refusal(SignOnRefusal.EXISTING_ACCOUNT)
    assert event.subject == "uid-root"


def test_an_administrator_links_an_account_and_its_owner_signs_in_as_it(
    idp, live_server, administrator
):
    from accounts.services.identities import external_identity_link

    root = UserFactory(username="root")
    external_identity_link(actor=administrator, user=root, provider="testidp", subject="uid-root")
    browser, callback = sign_on_until_callback(live_server.url, "root")

    assert browser.get(callback, allow_redirects=False, timeout=10).headers["Location"] == (
        "/models/"
    )
    assert LoginEvent.objects.get(outcome=LoginOutcome.SUCCESS, method=METHOD).user == root
    assert AuditEvent.objects.filter(action="identity.link", data__subject="uid-root").exists()


def test_an_unknown_person_is_refused_when_accounts_are_not_created(idp, live_server, settings):
    from tests.sso.server import oidc_settings_apply

    oidc_settings_apply(settings, idp, create_users=False)
    browser, callback = sign_on_until_callback(live_server.url, "bob")

    assert browser.get(callback, allow_redirects=False).headers["Location"].startswith("/login/")
    assert not User.objects.filter(username="bob").exists()
    refusal(SignOnRefusal.UNKNOWN_USER)


def test_next_off_the_site_is_not_followed(idp, live_server):
    browser, callback = sign_on_until_callback(
        live_server.url, "bob", next_url="https://evil.example/steal"
    )
    assert browser.get(callback, allow_redirects=False).headers["Location"] == "/models/"


def test_signing_out_ends_the_providers_session_too(idp, live_server):
    browser, callback = sign_on_until_callback(live_server.url, "bob")
    browser.get(callback, allow_redirects=False, timeout=10)
    browser.get(f"{live_server.url}/models/", timeout=10)
    csrf = browser.cookies.get("csrftoken")

    response = browser.post(
        f"{live_server.url}/logout/",
        headers={"X-CSRFToken": csrf, "Referer": live_server.url},
        allow_redirects=False,
    )

    assert response.status_code == 200
    end_session = html.unescape(
        re.search(r'data-testid="sso-logout-continue" href="([^"]+)"', response.text).group(1)
    )
    assert end_session.startswith(f"{idp.issuer}/logout/"), end_session
    params = parse_qs(urlsplit(end_session).query)
    assert params["post_logout_redirect_uri"] == [f"{live_server.url}/login/"]
    assert params["id_token_hint"]
    assert_signed_out(browser, live_server.url)
    back = browser.get(end_session, allow_redirects=False, timeout=10)
    assert back.headers["Location"] == f"{live_server.url}/login/"
    # The provider's session is over: a new sign-on asks for the password again.
    start = browser.get(f"{live_server.url}/oidc/authenticate/", allow_redirects=False)
    again = browser.get(start.headers["Location"], allow_redirects=False)
    assert "/accounts/login/" in again.headers["Location"]


def test_the_provider_down_gives_a_clear_message_and_password_sign_in_still_works(
    idp, live_server, settings
):
    from tests.sso.server import free_port, oidc_settings_apply

    oidc_settings_apply(settings, idp, issuer=f"http://127.0.0.1:{free_port()}/o", timeout=2)
    local = UserFactory(username="breakglass")
    local.set_password("local-pass-123")
    local.save()
    browser = requests.Session()

    response = browser.get(f"{live_server.url}/oidc/authenticate/?next=/models/", timeout=10)

    assert "Test IdP could not be reached" in response.text
    assert "local accounts can still sign in" in response.text
    event = refusal(SignOnRefusal.PROVIDER_UNREACHABLE)
    assert event.outcome == LoginOutcome.ERROR
    form = {"username": "breakglass", "password": "local-pass-123", "next": "/models/"}
    form["csrfmiddlewaretoken"] = browser.cookies["csrftoken"]
    signed_in = browser.post(f"{live_server.url}/login/", data=form, allow_redirects=False)
    assert signed_in.headers["Location"] == "/models/"
