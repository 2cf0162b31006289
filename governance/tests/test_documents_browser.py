"""The documentation panel in a real Chromium: open a version, generate the model card, read
it in the page, download the PDF, and write a missing free-text section."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from governance.services.documents import document_templates_install
from governance.tests import documents_fixtures
from governance.tests.documents_fixtures import pdf_text
from tests.factories import PASSWORD

doc_version = documents_fixtures.doc_version  # the shared fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_generates_shows_and_downloads_a_model_card(
    page: Page, live_server, contributor, doc_version, screenshot_dir
):
    document_templates_install()  # a transactional test's flush removed the migration's rows
    base = live_server.url
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill("carol")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.goto(f"{base}/models/credit-model/versions/1/")
    page.get_by_role("tab", name="Documents").click()  # the version page keeps them in a tab
    panel = page.get_by_test_id("documents-panel")
    expect(panel.get_by_test_id("documents-empty")).to_be_visible()
    panel.get_by_test_id("document-template").select_option("model-card")
    panel.get_by_test_id("document-generate").click()
    # In-process tasks: the document is done when the page comes back.
    expect(panel.get_by_test_id("document-status").first).to_have_text("Current")
    expect(panel.get_by_test_id("document-view")).to_contain_text("credit-model")
    expect(panel.get_by_test_id("document-view")).to_contain_text("0.913")
    page.screenshot(path=screenshot_dir / "documents-model-card.png", full_page=True)
    with page.expect_download() as download_info:
        panel.get_by_test_id("document-download-pdf").first.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    assert "credit-model" in pdf_text(Path(download.path()).read_bytes())

    section = panel.locator('[data-testid="free-text-section"][data-key="intended_use"]').first
    section.get_by_test_id("free-text-write").click()
    section.locator("textarea").fill("Pre-screening of consumer loan applications.")
    section.get_by_role("button", name="Save").click()
    expect(panel.get_by_test_id("document-stale")).to_be_visible()
    panel.get_by_test_id("document-regenerate").click()
    expect(panel.get_by_test_id("document-view")).to_contain_text("Pre-screening of consumer")
