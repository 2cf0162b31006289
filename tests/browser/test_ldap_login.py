"""Directory login in a real Chromium: a person who exists only in the directory signs in
through the page and sees their team's models, as their directory groups say, and no other
team's."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.directory_data import PASSWORDS, ldap_settings_apply
from tests.factories import RegisteredModelFactory, TeamFactory

# The throwaway slapd and its fixtures (ldap_server, ldap_directory, ldap_login).
pytest_plugins = ["tests.ldap_server"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalogue(db):
    """Two Credit Risk models and one of Marketing's."""
    credit_risk = TeamFactory(name="Credit Risk", slug="credit-risk")
    marketing = TeamFactory(name="Marketing", slug="marketing")
    RegisteredModelFactory(name="credit-scorer", owner_team=credit_risk)
    RegisteredModelFactory(name="fraud-detector", owner_team=credit_risk)
    RegisteredModelFactory(name="churn-predictor", owner_team=marketing)


def test_a_directory_user_signs_in_and_sees_only_their_teams_models(
    page: Page, live_server, settings, ldap_directory, catalogue, screenshot_dir
):
    # The live server runs in this process, so it sees these settings.
    ldap_settings_apply(settings, ldap_directory)
    base = live_server.url

    page.goto(f"{base}/login/?next=/models/")
    # Carol exists only in the directory, in credit-risk-team: a contributor of Credit Risk.
    page.get_by_label("Username").fill("carol")
    page.get_by_label("Password").fill(PASSWORDS["carol"])
    page.get_by_test_id("login-submit").click()

    expect(page).to_have_url(f"{base}/models/")
    expect(page.get_by_test_id("current-user")).to_have_text("Carol Chen")
    expect(page.get_by_test_id("model-row")).to_have_count(2)
    expect(page.get_by_role("link", name="credit-scorer", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="fraud-detector", exact=True)).to_be_visible()
    expect(page.get_by_text("churn-predictor")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "ldap-login-catalogue.png", full_page=True)
