"""SAML sign-on in a real Chromium against a real SAML IdP (pysaml2's Server in its own
process): the person clicks "Sign in with Test SAML", signs in on the IdP's page, whose signed
response the browser posts back to Steward, and lands where they were going with the teams
their IdP groups give them; signing out ends the Steward session; a group removed at the IdP
is gone at the next sign-in; with the IdP down the page says so and local sign-in still works."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.choices import RoleName
from accounts.models import LoginEvent, RoleAssignment
from config import saml
from tests.factories import RegisteredModelFactory, TeamFactory, UserFactory
from tests.sso.saml_people import PEOPLE, name_id

pytest_plugins = ["tests.sso.saml_server"]
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _cookies_as_in_production(settings):
    """The live server is http://localhost and the IdP http://127.0.0.1: two sites, so the
    IdP's POST back is cross-site as in production. Cookies as production sets them
    (STEWARD_SECURE_COOKIES): the SAML session's cookie SameSite=None and Secure (Chromium
    keeps Secure cookies of http://localhost), Steward's session cookie Lax and Secure."""
    settings.SESSION_COOKIE_SECURE = True
    settings.SAML_SESSION_COOKIE_SAMESITE = saml.saml_settings(None, [], secure_cookies=True)[
        "SAML_SESSION_COOKIE_SAMESITE"
    ]


@pytest.fixture
def catalogue(db):
    credit_risk = TeamFactory(name="Credit Risk", slug="credit-risk")
    marketing = TeamFactory(name="Marketing", slug="marketing")
    RegisteredModelFactory(name="credit-scorer", owner_team=credit_risk)
    RegisteredModelFactory(name="fraud-detector", owner_team=credit_risk)
    RegisteredModelFactory(name="churn-predictor", owner_team=marketing)


def sign_in_at_idp(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/?next=/models/")
    page.get_by_test_id("saml-login").click()
    # The IdP's own page; its answer page posts the signed response back by itself.
    expect(page.get_by_role("heading", name="Test SAML IdP")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PEOPLE[username]["password"])
    page.get_by_role("button", name="Sign in").click()


def test_a_person_signs_in_through_the_idp_and_sees_their_teams_models(
    page: Page, live_server, saml_idp, catalogue, screenshot_dir
):
    base = live_server.url
    page.goto(f"{base}/login/?next=/models/")
    expect(page.get_by_test_id("saml-login")).to_have_text("Sign in with Test SAML")
    page.screenshot(path=screenshot_dir / "saml-login-page.png", full_page=True)

    sign_in_at_idp(page, base, "bob")

    expect(page).to_have_url(f"{base}/models/")
    expect(page.get_by_test_id("current-user")).to_have_text("Bob Brandt")
    expect(page.get_by_test_id("model-row")).to_have_count(2)
    expect(page.get_by_text("churn-predictor")).to_have_count(0)
    assert RoleAssignment.objects.filter(
        user__username="bob", role__name=RoleName.CONTRIBUTOR, team__slug="credit-risk"
    ).exists()
    assert LoginEvent.objects.filter(
        user__username="bob", method="saml:testsaml", subject=name_id("bob")
    ).exists()
    page.screenshot(path=screenshot_dir / "saml-catalogue.png", full_page=True)

    page.get_by_test_id("logout").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/login/"))
    page.goto(f"{base}/models/")
    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/login/"))

    # Bob leaves credit-risk at the IdP: at his next sign-in the team and role are gone.
    saml_idp.set_groups("bob", [])
    sign_in_at_idp(page, base, "bob")
    expect(page).to_have_url(f"{base}/models/")
    expect(page.get_by_test_id("model-row")).to_have_count(0)
    assert not RoleAssignment.objects.filter(user__username="bob").exists()


def test_a_refused_assertion_is_explained_on_the_sign_in_page(
    page: Page, live_server, saml_idp, catalogue
):
    saml_idp.fault("unsigned")
    sign_in_at_idp(page, live_server.url, "alice")

    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/login/"))
    expect(page.get_by_text("Sign-in with Test SAML was refused")).to_be_visible()


def test_with_the_idp_down_the_page_says_so_and_local_sign_in_works(
    page: Page, live_server, saml_idp, settings, catalogue
):
    from tests.sso.saml_server import saml_settings_apply
    from tests.sso.server import free_port

    saml_settings_apply(
        settings, saml_idp, metadata_url=f"http://127.0.0.1:{free_port()}/metadata/", timeout=2
    )
    local = UserFactory(username="breakglass", display_name="Break Glass")
    local.set_password("local-pass-123")
    local.save()
    base = live_server.url

    page.goto(f"{base}/login/?next=/models/")
    page.get_by_test_id("saml-login").click()

    expect(page.get_by_text("Test SAML could not be reached")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/login/"))
    page.get_by_label("Username").fill("breakglass")
    page.get_by_label("Password").fill("local-pass-123")
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(f"{base}/models/")
    expect(page.get_by_test_id("current-user")).to_have_text("Break Glass")
