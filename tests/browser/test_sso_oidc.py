"""Single sign-on in a real Chromium against a real OpenID Connect provider (django-oauth-toolkit
in its own process): the person clicks "Sign in with Test IdP", signs in and consents on the
provider's pages, and lands where they were going with the teams their provider groups give
them; signing out ends the provider's session too; a group removed at the provider is gone at
the next sign-in; with the provider down the page says so and local sign-in still works."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.choices import RoleName
from accounts.models import RoleAssignment
from tests.factories import RegisteredModelFactory, TeamFactory, UserFactory
from tests.sso.people import PEOPLE

pytest_plugins = ["tests.sso.server"]
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalogue(db):
    credit_risk = TeamFactory(name="Credit Risk", slug="credit-risk")
    marketing = TeamFactory(name="Marketing", slug="marketing")
    RegisteredModelFactory(name="credit-scorer", owner_team=credit_risk)
    RegisteredModelFactory(name="fraud-detector", owner_team=credit_risk)
    RegisteredModelFactory(name="churn-predictor", owner_team=marketing)


def sign_in_at_provider(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/?next=/models/")
    page.get_by_test_id("sso-login").click()
    # The provider's own pages: its sign-in, then its consent.
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
    page.get_by_label("IdP username").fill(username)
    page.get_by_label("IdP password").fill(PEOPLE[username]["password"])
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Authorize Steward?")).to_be_visible()
    page.get_by_role("button", name="Authorize").click()


def test_a_person_signs_in_through_the_provider_and_sees_their_teams_models(
    page: Page, live_server, idp, catalogue, screenshot_dir
):
    base = live_server.url
    page.goto(f"{base}/login/?next=/models/")
    expect(page.get_by_test_id("sso-login")).to_have_text("Sign in with Test IdP")
    page.screenshot(path=screenshot_dir / "sso-login-page.png", full_page=True)

    sign_in_at_provider(page, base, "bob")

    expect(page).to_have_url(f"{base}/models/")
    expect(page.get_by_test_id("current-user")).to_have_text("Bob Brandt")
    expect(page.get_by_test_id("model-row")).to_have_count(2)
    expect(page.get_by_text("churn-predictor")).to_have_count(0)
    assert RoleAssignment.objects.filter(
        user__username="bob", role__name=RoleName.CONTRIBUTOR, team__slug="credit-risk"
    ).exists()
    page.screenshot(path=screenshot_dir / "sso-catalogue.png", full_page=True)

    # Sign out: Steward's session and the provider's (RP-initiated logout) end, and the
    # browser is back on the sign-in page.
    page.get_by_test_id("logout").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/login/"))

    # Bob leaves credit-risk at the provider: at his next sign-in (the provider asks for his
    # password again, its session having ended) the team and role are gone.
    idp.set_groups("bob", [])
    sign_in_at_provider(page, base, "bob")
    expect(page).to_have_url(f"{base}/models/")
    expect(page.get_by_test_id("model-row")).to_have_count(0)
    assert not RoleAssignment.objects.filter(user__username="bob").exists()


def test_with_the_provider_down_the_page_says_so_and_local_sign_in_works(
    page: Page, live_server, idp, settings, catalogue
):
    from tests.sso.server import free_port, oidc_settings_apply

    oidc_settings_apply(settings, idp, issuer=f"http://127.0.0.1:{free_port()}/o", timeout=2)
    local = UserFactory(username="breakglass", display_name="Break Glass")
    local.set_password("local-pass-123")
    local.save()
    base = live_server.url

    page.goto(f"{base}/login/?next=/models/")
    page.get_by_test_id("sso-login").click()

    expect(page.get_by_text("Test IdP could not be reached")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/login/"))
    page.get_by_label("Username").fill("breakglass")
    page.get_by_label("Password").fill("local-pass-123")
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(f"{base}/models/")
    expect(page.get_by_test_id("current-user")).to_have_text("Break Glass")
