"""The review console in a real Chromium: a contributor submits a version from her inbox, a
validator claims it, asks a question and signs it off, a manager approves it, each with a
written motivation; an auditor then reads the whole timeline. Screenshots of the inbox and of
the review section are saved for review."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from governance.services.documents import document_templates_install
from registry.choices import RiskTier
from registry.choices import VersionStatus as S
from tests.factories import PASSWORD, ModelVersionFactory, RegisteredModelFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUBMIT_WHY = "Gradient boosting beats the baseline: AUC 0.912 on the 2024-Q2 hold-out."
CLAIM_WHY = "Taking the validation; I will re-run the evaluation."
SIGN_OFF_WHY = "Evaluation reproduced, no leakage between splits. Signed off."
APPROVE_WHY = "Validated, no open findings: approved for the July release."


@pytest.fixture
def cast(contributor, validator, manager, auditor):
    names = {
        contributor: "Carol Contributor",
        validator: "Vera Validator",
        manager: "Max Manager",
        auditor: "Aude Auditor",
    }
    for user, name in names.items():
        user.display_name = name
        user.save(update_fields=["display_name"])
    return names


@pytest.fixture
def version(team, contributor, cast):
    # The live server's database is emptied between tests, migrations' rows included: put the
    # shipped documentation templates back, as migration 0004 installs them.
    document_templates_install()
    model = RegisteredModelFactory(
        actor=contributor,
        name="credit-scorer",
        owner_team=team,
        risk_tier=RiskTier.MEDIUM,
        description="Scores retail credit applications for default risk.",
    )
    return ModelVersionFactory(
        actor=contributor,
        registered_model=model,
        metrics={"auc": 0.912, "ks": 0.44},
        description="Gradient-boosted trees on the 2024-Q2 snapshot.",
    )


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/?next=/inbox/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(f"{base}/inbox/")


def sign_out(page: Page) -> None:
    page.get_by_test_id("logout").click()


def decide(page: Page, action: str, motivation: str) -> None:
    page.get_by_test_id("decision-motivation").fill(motivation)
    page.locator(f'[data-testid="decision-button"][data-action="{action}"]').click()


def write_sections(page: Page, base: str, template: str) -> None:
    """Write every missing section of ``template`` on the version's Documents tab, as its
    writer does before the version can be approved."""
    page.goto(f"{base}/models/credit-scorer/versions/1/#tab-documents")
    sections = page.locator(
        f'[data-testid="free-text-section"][data-template="{template}"][data-missing="true"]'
    )
    while sections.count():
        section = sections.first
        key = section.get_attribute("data-key")
        section.get_by_test_id("free-text-write").click()
        section.locator("textarea").fill(f"The {key.replace('_', ' ')} of the credit scorer.")
        section.get_by_role("button", name="Save").click()
        expect(page.locator(".message--success")).to_be_visible()
        page.goto(f"{base}/models/credit-scorer/versions/1/#tab-documents")
    expect(sections).to_have_count(0)


def open_from_inbox(page: Page, action: str) -> None:
    row = page.get_by_test_id("inbox-row").filter(has_text="credit-scorer")
    row.locator(f'[data-testid="inbox-action"][data-action="{action}"]').click()
    expect(page.get_by_test_id("review-panel")).to_be_visible()


def test_a_version_goes_from_draft_to_approved_and_the_auditor_sees_why(
    page: Page, live_server, version, screenshot_dir
):
    base = live_server.url
    page.set_viewport_size({"width": 1360, "height": 900})

    # The contributor finds her draft in the inbox and submits it.
    sign_in(page, base, "carol")
    expect(page.get_by_test_id("inbox-badge")).to_have_text("1")
    expect(page.get_by_test_id("inbox-row")).to_have_count(1)
    page.screenshot(path=screenshot_dir / "review-inbox-contributor.png", full_page=True)
    # The policy wants the model card's sections written before approval: she writes hers.
    write_sections(page, base, "model-card")
    page.goto(f"{base}/inbox/")
    open_from_inbox(page, "submit")
    decide(page, "submit", SUBMIT_WHY)
    expect(page.locator(".message--success")).to_contain_text("Submit for validation recorded")
    expect(page.get_by_test_id("review-status")).to_have_text("Submitted")
    sign_out(page)

    # The validator claims it, asks a question, and signs it off.
    sign_in(page, base, "vera")
    expect(page.get_by_test_id("inbox-row")).to_contain_text("Claim for validation")
    page.screenshot(path=screenshot_dir / "review-inbox-validator.png", full_page=True)
    open_from_inbox(page, "claim")
    decide(page, "claim", CLAIM_WHY)
    expect(page.get_by_test_id("review-status")).to_have_text("In validation")
    page.get_by_test_id("annotation-kind").select_option("question")
    page.get_by_test_id("annotation-body").fill("Which **cut-off** does the service use?")
    page.get_by_test_id("annotation-submit").click()
    note = page.get_by_test_id("annotation")
    expect(note).to_contain_text("Which cut-off does the service use?")
    expect(note.locator("strong", has_text="cut-off")).to_be_visible()  # Markdown rendered
    page.get_by_test_id("review-panel").scroll_into_view_if_needed()
    page.get_by_test_id("review-panel").screenshot(path=screenshot_dir / "review-section.png")
    # She resolves her question, saying why: the motivation becomes a reply in the thread.
    page.get_by_test_id("annotation-resolve-motivation").fill("Answered: 0.5, in the runbook.")
    page.get_by_test_id("annotation-resolve").click()
    expect(page.get_by_test_id("annotation-state").first).to_contain_text("Resolved by")
    expect(page.get_by_test_id("annotation").nth(1)).to_contain_text(
        "Answered: 0.5, in the runbook."
    )
    expect(page.get_by_test_id("annotation-resolve")).to_have_count(0)
    page.get_by_test_id("annotation").first.scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir / "review-resolved-question.png")
    decide(page, "sign_off", SIGN_OFF_WHY)
    expect(page.get_by_test_id("review-status")).to_have_text("Validated")
    expect(page.get_by_test_id("sign-offs")).to_have_text("1 of 1")
    sign_out(page)

    # The manager approves it.
    sign_in(page, base, "max")
    open_from_inbox(page, "approve")
    decide(page, "approve", APPROVE_WHY)
    expect(page.get_by_test_id("review-status")).to_have_text("Approved")
    sign_out(page)

    # The auditor reads the whole timeline: three people, four decisions, every motivation.
    sign_in(page, base, "aud")
    expect(page.get_by_test_id("inbox-empty")).to_be_visible()
    page.goto(f"{base}/models/credit-scorer/versions/1/")
    expect(page.get_by_test_id("no-decision")).to_be_visible()
    timeline = page.get_by_test_id("decision")
    expect(timeline).to_have_count(4)
    expect(timeline.get_by_test_id("decision-actor")).to_have_text(
        ["Carol Contributor", "Vera Validator", "Vera Validator", "Max Manager"]
    )
    expect(timeline.get_by_test_id("decision-motivation-text")).to_have_text(
        [SUBMIT_WHY, CLAIM_WHY, SIGN_OFF_WHY, APPROVE_WHY]
    )
    page.get_by_test_id("review-panel").scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir / "review-auditor.png", full_page=True)
    version.refresh_from_db()
    assert version.status == S.APPROVED
