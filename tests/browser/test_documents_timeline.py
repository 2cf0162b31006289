"""The documents panel and the auditor's decisions timeline in a real Chromium, after a whole
review (every decision regenerated the model card): one row per template with its state and
the earlier documents collapsed; the timeline tells each decision once, with names, roles and
motivations, and the raw log is one click away. Screenshots at 1,400 and 800 px under
test-artifacts/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from governance.choices import Action, AnnotationKind
from governance.services import annotation_create, annotation_resolve
from governance.services.documents import (
    document_templates_install,
    documents_required_generate,
    free_text_write,
)
from registry.choices import RiskTier
from tests.factories import PASSWORD, ModelVersionFactory, RegisteredModelFactory, version_decide

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = (1400, 800)
SIGN_OFF_WHY = "Evaluation reproduced (AUC 0.912); no leakage between splits. Signed off."


@pytest.fixture
def reviewed(team, contributor, validator, manager):
    document_templates_install()  # a transactional test's flush removed the migration's rows
    for user, name in ((contributor, "Carol Contributor"), (validator, "Vera Validator")):
        user.display_name = name
        user.save(update_fields=["display_name"])
    model = RegisteredModelFactory(
        actor=contributor, name="credit-scorer", owner_team=team, risk_tier=RiskTier.MEDIUM
    )
    version = ModelVersionFactory(actor=contributor, registered_model=model, metrics={"auc": 0.912})
    free_text_write(
        actor=contributor,
        version=version,
        template_name="model-card",
        section_key="intended_use",
        text="Scoring retail credit applications.",
    )

    def decide(actor, action, why):
        if action in (Action.SUBMIT, Action.APPROVE):
            documents_required_generate(actor=actor, version=version)
        version_decide(actor=actor, version=version, action=action, motivation=why)

    decide(contributor, Action.SUBMIT, "Gradient boosting beats the baseline on the hold-out.")
    decide(validator, Action.CLAIM, "Taking the validation; I will re-run the evaluation.")
    finding = annotation_create(
        actor=validator, target=version, kind=AnnotationKind.FINDING, body="Cut-off not stated."
    )
    annotation_resolve(actor=validator, annotation=finding, motivation="Cut-off 0.5 documented.")
    decide(validator, Action.SIGN_OFF, SIGN_OFF_WHY)
    decide(manager, Action.APPROVE, "Validated, no open findings: approved.")
    return version


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("logout")).to_be_visible()


def test_the_documents_panel_shows_the_latest_per_template_with_history_collapsed(
    page: Page, live_server, reviewed, screenshot_dir
):
    base = live_server.url
    sign_in(page, base, "carol")
    page.goto(f"{base}/models/credit-scorer/versions/1/#documents")
    panel = page.get_by_test_id("documents-panel")
    rows = panel.get_by_test_id("document-row")
    expect(rows).to_have_count(1)  # one template (the model card), however many renderings
    expect(rows.first.get_by_test_id("document-status")).to_have_text("Current")
    history = panel.get_by_test_id("document-history")
    expect(history).to_have_count(1)
    expect(history.get_by_test_id("document-history-row").first).to_be_hidden()  # collapsed
    history.locator("summary").click()
    expect(history.get_by_test_id("document-history-row").first).to_be_visible()
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        panel.scroll_into_view_if_needed()
        # Nothing in the panel is wider than the page.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        panel.screenshot(path=screenshot_dir / f"documents-panel-{width}.png")


def test_the_auditor_reads_the_review_as_a_timeline_and_opens_the_raw_log(
    page: Page, live_server, reviewed, auditor, screenshot_dir
):
    base = live_server.url
    sign_in(page, base, "aud")
    page.goto(f"{base}/audit/")
    version = page.get_by_test_id("timeline-version")
    expect(version).to_have_count(1)
    labels = version.get_by_test_id("timeline-label")
    expect(labels).to_have_text(
        [
            "Submitted for validation",
            "Claimed for validation",
            "Finding raised",
            "Finding resolved",
            "Signed off",
            "Approved for production",
        ]
    )
    sign_off = version.get_by_test_id("timeline-entry").filter(has_text="Signed off")
    expect(sign_off.get_by_test_id("timeline-actor")).to_have_text("Vera Validator (vera)")
    expect(sign_off.get_by_test_id("timeline-role")).to_have_text("as validator")
    expect(sign_off.get_by_test_id("timeline-text")).to_have_text(SIGN_OFF_WHY)
    expect(page.get_by_test_id("decision-count")).to_have_text("4 decisions")
    expect(page.get_by_test_id("chain-count")).to_contain_text("events verified")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=screenshot_dir / f"audit-timeline-{width}.png", full_page=True)

    page.get_by_test_id("tab-raw-log").click()
    expect(page).to_have_url(f"{base}/audit/log/")
    expect(page.get_by_test_id("trail-table")).to_be_visible()
    expect(page.get_by_test_id("tab-raw-log")).to_have_attribute("aria-current", "page")


def test_a_contributor_is_refused_the_timeline(page: Page, live_server, reviewed):
    base = live_server.url
    sign_in(page, base, "carol")
    response = page.goto(f"{base}/audit/")
    assert response is not None and response.status == 403
    expect(page.get_by_test_id("timeline-version")).to_have_count(0)
