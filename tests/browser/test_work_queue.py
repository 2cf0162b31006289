"""The work queue and the decision buttons in a real Chromium, at 1,400 and 800 px: what awaits
a manager comes before what they watch, the page never scrolls sideways, each decision is its
own coloured button, and a rejection asks for a confirmation (without any script) before it is
recorded. Screenshots of each are saved under test-artifacts/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from governance.choices import Action
from registry.choices import RiskTier
from registry.choices import VersionStatus as S
from tests.factories import PASSWORD, ModelVersionFactory, RegisteredModelFactory, version_decide

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WHY = "Evidence reviewed: hold-out metrics reproduce and the lineage is complete."
WIDTHS = (1400, 800)


def act(actor, version, action):
    version_decide(actor=actor, version=version, action=action, motivation=WHY)


@pytest.fixture
def world(team, contributor, validator, manager):
    """Versions of a long-named model in every state a manager and a validator meet."""
    model = RegisteredModelFactory(
        actor=contributor,
        name="retail-credit-default-probability-scorer",
        owner_team=team,
        risk_tier=RiskTier.MEDIUM,
        description="Scores retail credit applications for default risk.",
    )
    review = [(contributor, Action.SUBMIT), (validator, Action.CLAIM), (validator, Action.SIGN_OFF)]
    plans = {
        "in_production": [*review, (manager, Action.APPROVE), (manager, Action.PROMOTE)],
        "validated": review,
        "in_validation": review[:2],
        "submitted": review[:1],
    }
    versions = {}
    for name, steps in plans.items():
        version = ModelVersionFactory(actor=contributor, registered_model=model)
        for actor, action in steps:
            act(actor, version, action)
        versions[name] = version
    return versions


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/?next=/inbox/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(f"{base}/inbox/")


def assert_no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def test_a_manager_sees_what_awaits_them_before_what_they_watch(
    page: Page, live_server, world, screenshot_dir
):
    base = live_server.url
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, base, "max")

    awaiting = page.get_by_test_id("awaiting").get_by_test_id("inbox-row")
    expect(awaiting).to_have_count(1)
    expect(awaiting).to_have_attribute("data-status", S.VALIDATED)
    expect(awaiting.get_by_test_id("queue-sign-offs")).to_have_text("1 of 1")
    expect(page.get_by_test_id("inbox-badge")).to_have_text("1")
    watched = page.get_by_test_id("watching").get_by_test_id("watching-row")
    expect(watched).to_have_count(1)
    expect(watched).to_have_attribute("data-status", S.PRODUCTION)

    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        expect(awaiting.get_by_test_id("inbox-action")).to_be_visible()
        assert_no_sideways_scroll(page)
        page.screenshot(path=screenshot_dir / f"queue-manager-{width}.png", full_page=True)

    # The filters are GET parameters: nothing in production awaits anyone.
    page.get_by_label("State").select_option(S.PRODUCTION)
    page.get_by_test_id("queue-filter-submit").click()
    expect(page).to_have_url(f"{base}/inbox/?state=production&team=&risk_tier=")
    expect(page.get_by_test_id("inbox-empty")).to_be_visible()
    expect(page.get_by_test_id("watching-row")).to_have_count(1)


def test_a_validator_rejects_only_after_confirming(page: Page, live_server, world, screenshot_dir):
    base = live_server.url
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, base, "vera")
    expect(page.get_by_test_id("inbox-row")).to_have_count(2)
    # The review she claimed comes before the one still to claim.
    expect(page.get_by_test_id("inbox-row").first).to_have_attribute("data-status", S.IN_VALIDATION)
    page.get_by_test_id("inbox-row").first.get_by_test_id("inbox-action").click()

    buttons = page.get_by_test_id("decision-button")
    expect(buttons).to_have_count(3)
    expect(buttons).to_have_text(["Sign off", "Request changes", "Reject…"])
    colours = [b.evaluate("e => getComputedStyle(e).backgroundColor") for b in buttons.all()]
    assert len(set(colours)) == 3, colours  # green, amber, red: one colour per meaning
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.get_by_test_id("decision-box").scroll_into_view_if_needed()
        assert_no_sideways_scroll(page)
        page.screenshot(path=screenshot_dir / f"decision-buttons-{width}.png")

    # Reject without the confirmation: refused, nothing recorded, what she wrote kept.
    page.get_by_test_id("decision-motivation").fill(WHY)
    page.locator('[data-testid="decision-button"][data-action="reject"]').click()
    expect(page.get_by_test_id("confirm-error")).to_be_visible()
    expect(page.get_by_test_id("decision-motivation")).to_have_value(WHY)
    expect(page.get_by_test_id("review-status")).to_have_text("In validation")
    page.get_by_test_id("decision-box").scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir / "decision-confirm-800.png")

    page.get_by_test_id("decision-confirm").check()
    page.locator('[data-testid="decision-button"][data-action="reject"]').click()
    expect(page.get_by_test_id("review-status")).to_have_text("Rejected")
    expect(page.get_by_test_id("refusals")).to_contain_text("administrator role")
    world["in_validation"].refresh_from_db()
    assert world["in_validation"].status == S.REJECTED
