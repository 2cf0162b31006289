"""The API tokens page and the sign-in audit in a real Chromium: create a token through the
page, copy its secret (shown once), revoke it; an auditor reads the failed sign-ins."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import ApiToken
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_test_id("login-submit").click()


def test_it_creates_shows_once_and_revokes_a_token(
    page: Page, live_server, contributor, screenshot_dir
):
    base = live_server.url
    sign_in(page, base, "carol", PASSWORD)
    page.get_by_test_id("tokens-link").click()
    expect(page).to_have_url(f"{base}/account/tokens/")
    expect(page.get_by_test_id("empty")).to_be_visible()

    page.get_by_label("Name").fill("nightly training pipeline")
    page.locator('input[name="scopes"][value="write"]').check()
    page.get_by_test_id("create-token").click()

    expect(page.get_by_test_id("new-token-secret")).to_have_text(re.compile(r"^stw_\S{40,}$"))
    expect(page.get_by_role("alert")).to_contain_text("it will not be shown again")
    expect(page.get_by_test_id("token-row")).to_have_count(1)
    page.screenshot(path=screenshot_dir / "tokens-created.png", full_page=True)

    page.goto(f"{base}/account/tokens/")
    expect(page.get_by_test_id("new-token-secret")).to_have_count(0)
    page.get_by_test_id("revoke-token").click()
    # A confirmation first: nothing is revoked until it is confirmed.
    expect(page.get_by_test_id("revoke-confirm")).to_contain_text("nightly training pipeline")
    assert ApiToken.objects.get().revoked_at is None
    for width in (1400, 800):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=screenshot_dir / f"tokens-revoke-confirm-{width}.png")
    page.get_by_test_id("revoke-token-confirm").click()
    expect(page.get_by_text("is revoked")).to_be_visible()
    expect(page.get_by_test_id("token-row")).to_contain_text("Revoked")
    page.screenshot(path=screenshot_dir / "tokens-revoked.png", full_page=True)
    assert ApiToken.objects.get().revoked_at is not None


def test_an_auditor_reads_the_failed_sign_ins(page: Page, live_server, auditor, screenshot_dir):
    base = live_server.url
    sign_in(page, base, "aud", "not-the-password")
    expect(page.get_by_test_id("login-error")).to_be_visible()
    sign_in(page, base, "aud", PASSWORD)
    page.goto(f"{base}/audit/logins/")
    expect(page.get_by_test_id("login-event-row")).to_have_count(2)
    page.get_by_label("Outcome").select_option("failure")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("login-event-row")).to_have_count(1)
    expect(page.get_by_test_id("login-event-row")).to_contain_text("Failure")
    page.screenshot(path=screenshot_dir / "login-audit.png", full_page=True)
