"""The model page's "What is serving" panel and the runs page in a real Chromium, at 1,400 and
800 px: the serving version and the superseded one are told apart, the runs page searches, and
neither page scrolls sideways. Screenshots under test-artifacts/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from monitoring.tests.factories import DeploymentFactory, ProductionVersionFactory
from registry.choices import RiskTier, RunKind
from tests.factories import PASSWORD, RegisteredModelFactory, RunFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = (1400, 800)


@pytest.fixture
def world(team, member):
    model = RegisteredModelFactory(name="credit-scorer", owner_team=team, risk_tier=RiskTier.LOW)
    v1 = ProductionVersionFactory(registered_model=model)
    first = DeploymentFactory(model_version=v1, name="scorer-prod-1")
    v2 = ProductionVersionFactory(registered_model=model)
    DeploymentFactory(model_version=v2, name="scorer-prod-2", replaces=first)
    RunFactory(team=team, name="nightly-train")
    RunFactory(team=team, name="holdout-eval", kind=RunKind.EVALUATION)
    return model


def sign_in(page: Page, base: str, username: str, then: str) -> None:
    page.goto(f"{base}/login/?next={then}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(f"{base}{then}")


def no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def test_the_model_page_says_which_version_serves(page: Page, live_server, world, screenshot_dir):
    sign_in(page, live_server.url, "mia", "/models/credit-scorer/")
    rows = page.get_by_test_id("serving-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-serving", "true")
    expect(rows.nth(0)).to_contain_text("scorer-prod-2")
    expect(rows.nth(1)).to_have_attribute("data-superseded", "true")
    expect(rows.nth(1).get_by_test_id("serving-state")).to_contain_text("Superseded by v2")
    expect(page.get_by_test_id("promotion-explained")).to_contain_text("deploys nothing")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.get_by_test_id("serving-panel").scroll_into_view_if_needed()
        no_sideways_scroll(page)
        page.screenshot(path=screenshot_dir / f"model-serving-{width}.png", full_page=True)


def test_the_runs_page_searches(page: Page, live_server, world, screenshot_dir):
    sign_in(page, live_server.url, "mia", "/runs/")
    expect(page.get_by_test_id("run-row")).to_have_count(2)
    page.get_by_label("Kind").select_option("evaluation")
    page.get_by_test_id("search-submit").click()
    expect(page.get_by_test_id("run-row")).to_have_count(1)
    expect(page.get_by_test_id("run-row")).to_contain_text("holdout-eval")
    page.get_by_test_id("run-row").get_by_role("link").first.click()
    page.get_by_test_id("breadcrumb-runs").click()
    expect(page).to_have_url(f"{live_server.url}/runs/")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=screenshot_dir / f"runs-{width}.png", full_page=True)
