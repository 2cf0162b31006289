"""A deployment's retention in a real Chromium: an administrator opens the deployment page,
places a legal hold with a reason through the form and sees who holds it and why; a manager
sees the same state but no form. Screenshots under test-artifacts/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from core.models import AuditEvent
from monitoring.models import Deployment
from monitoring.tests.test_monitoring_services import live, version  # noqa: F401 - fixtures
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base: str, username: str, then: str) -> None:
    page.set_viewport_size({"width": 1360, "height": 900})
    page.goto(f"{base}/login/?next={then}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()


def test_an_administrator_places_a_legal_hold_from_the_deployment_page(
    page: Page,
    live_server,
    live,  # noqa: F811 - the fixture
    administrator,
    screenshot_dir,
):
    path = f"/monitoring/deployments/{live.name}/"
    sign_in(page, live_server.url, administrator.username, path)
    panel = page.get_by_test_id("retention-panel")
    expect(panel.get_by_test_id("legal-hold")).to_have_text("None.")
    expect(panel.get_by_test_id("retention-days")).to_contain_text("Kept forever")

    # The form asks why before it sends anything.
    panel.get_by_test_id("legal-hold-submit").click()
    assert not Deployment.objects.get(pk=live.pk).legal_hold

    panel.get_by_test_id("legal-hold-reason").fill("Regulator's inquiry 2026-114")
    panel.get_by_test_id("legal-hold-submit").click()
    expect(page).to_have_url(f"{live_server.url}{path}#retention")
    held = page.get_by_test_id("legal-hold")
    expect(held).to_contain_text("Held")
    expect(held).to_contain_text(administrator.username)
    expect(held).to_contain_text("Regulator's inquiry 2026-114")
    expect(page.get_by_test_id("legal-hold-submit")).to_have_text("Release the legal hold")
    assert Deployment.objects.get(pk=live.pk).legal_hold
    event = AuditEvent.objects.filter(action="deployment.legal_hold").get()
    assert event.data["reason"] == "Regulator's inquiry 2026-114"

    page.get_by_test_id("retention-days-input").fill("400")
    page.get_by_test_id("retention-reason").fill("Kept as long as the contract says")
    page.get_by_test_id("retention-submit").click()
    expect(page.get_by_test_id("retention-days")).to_have_text(
        "400 days (this deployment's setting)"
    )
    page.get_by_test_id("retention-panel").screenshot(
        path=screenshot_dir / "deployment-retention-1360.png"
    )


def test_a_manager_sees_the_hold_but_no_form(
    page: Page,
    live_server,
    live,  # noqa: F811 - the fixture
    manager,
):
    sign_in(page, live_server.url, manager.username, f"/monitoring/deployments/{live.name}/")
    panel = page.get_by_test_id("retention-panel")
    expect(panel.get_by_test_id("legal-hold")).to_have_text("None.")
    expect(panel.get_by_test_id("legal-hold-form")).to_have_count(0)
    expect(panel.get_by_test_id("retention-form")).to_have_count(0)
