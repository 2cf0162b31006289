"""The version page's evidence summary and tabs, and the comparison of two versions, in a real
Chromium at 1,400 and 800 px: the summary is on the first screen with the change against
production, the tabs switch with the script and follow the address, the comparison is reached
from the summary and from the model page, and no page scrolls sideways. Screenshots under
test-artifacts/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from monitoring.tests.factories import ProductionVersionFactory
from registry.choices import DatasetRole, RiskTier
from tests.browser.test_accessibility import page_problems
from tests.browser.test_serving_and_runs import no_sideways_scroll, sign_in
from tests.factories import (
    DatasetFactory,
    DatasetVersionFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    RunFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = (1400, 800)


@pytest.fixture
def world(team, member):
    model = RegisteredModelFactory(name="credit-scorer", owner_team=team, risk_tier=RiskTier.LOW)
    old = DatasetVersionFactory(dataset=DatasetFactory(name="applications", owner_team=team))
    new = DatasetVersionFactory(dataset=old.dataset)
    holdout = DatasetVersionFactory(dataset=DatasetFactory(name="holdout", owner_team=team))
    ProductionVersionFactory(
        registered_model=model,
        metrics={"auc": 0.86, "log_loss": 0.41, "ks": 0.52},
        params={"max_depth": 4, "learning_rate": 0.1},
        datasets=[(old, DatasetRole.TRAIN), (holdout, DatasetRole.TEST)],
        code_repository="https://git.example.org/credit/scorer.git",
        code_commit="1f3a9c0" + "0" * 33,
        python_version="3.11.9",
        packages={"numpy": "1.26.4", "scikit-learn": "1.4.2", "pandas": "2.2.1"},
    )
    ModelVersionFactory(
        registered_model=model,
        description="Retrained on the spring applications.",
        metrics={"auc": 0.89, "log_loss": 0.44, "ks": 0.55},
        params={"max_depth": 6, "learning_rate": 0.1, "subsample": 0.8},
        datasets=[(new, DatasetRole.TRAIN), (holdout, DatasetRole.TEST)],
        run=RunFactory(team=team, name="train-spring", inputs=[(new, DatasetRole.TRAIN)]),
        code_repository="https://git.example.org/credit/scorer.git",
        code_commit="9b7e2d4" + "0" * 33,
        python_version="3.12.3",
        packages={"numpy": "1.26.4", "scikit-learn": "1.5.0", "lightgbm": "4.3.0"},
    )
    return model


def test_the_version_page_opens_on_its_evidence(page: Page, live_server, world, screenshot_dir):
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_server.url, "mia", "/models/credit-scorer/versions/2/")
    summary = page.get_by_test_id("evidence-summary")
    expect(summary).to_be_visible()
    # On the first screen, above the review section.
    assert summary.bounding_box()["y"] < 900
    assert summary.bounding_box()["y"] < page.get_by_test_id("review-panel").bounding_box()["y"]
    expect(page.locator("h1")).to_have_count(1)
    auc = summary.locator("[data-metric='auc']")
    expect(auc).to_have_attribute("data-judgement", "better")
    expect(auc.get_by_test_id("metric-delta")).to_contain_text("+0.03")
    expect(summary.locator("[data-metric='log_loss']")).to_have_attribute("data-judgement", "worse")
    expect(page.get_by_test_id("evidence-data")).to_contain_text("applications v2")
    expect(summary.locator("[data-fact='open-findings']")).to_contain_text("0")
    expect(
        summary.locator("[data-fact='policy-checks'] [data-testid='evidence-check']")
    ).not_to_have_count(0)
    expect(page.get_by_test_id("evidence-baseline")).to_contain_text("v1")

    # Tabs: the details show, the others wait behind their tab.
    expect(page.get_by_test_id("lineage-svg")).to_be_visible()
    expect(page.get_by_test_id("packages-table")).to_be_hidden()
    page.get_by_role("tab", name="Code and environment").click()
    expect(page.get_by_test_id("packages-table")).to_be_visible()
    expect(page.get_by_test_id("lineage-svg")).to_be_hidden()
    expect(page.get_by_role("tab", name="Code and environment")).to_have_attribute(
        "aria-selected", "true"
    )
    page.get_by_role("tab", name="Documents").click()
    expect(page.get_by_test_id("documents-panel")).to_be_visible()
    # The address names the tab: a reload (or a shared link) opens it again.
    page.reload()
    expect(page.get_by_test_id("documents-panel")).to_be_visible()
    expect(page.get_by_test_id("packages-table")).to_be_hidden()

    page.goto(f"{live_server.url}/models/credit-scorer/versions/2/")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        no_sideways_scroll(page)
        page.screenshot(path=screenshot_dir / f"version-evidence-{width}.png", full_page=True)
    # Labels, contrast, one h1 (axe, as the accessibility suite runs it).
    assert page_problems(page, "/models/credit-scorer/versions/2/") == []


def test_two_versions_compare_side_by_side(page: Page, live_server, world, screenshot_dir):
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_server.url, "mia", "/models/credit-scorer/versions/2/")
    page.get_by_test_id("compare-with-production").click()
    expect(page).to_have_url(f"{live_server.url}/models/credit-scorer/compare/?a=1&b=2")
    expect(page.get_by_test_id("compare-title")).to_contain_text("v1 → v2")
    metrics = page.get_by_test_id("compare-metrics")
    expect(metrics.locator("[data-metric='auc']")).to_have_attribute("data-direction", "up")
    params = page.get_by_test_id("compare-params")
    expect(params.locator("[data-name='max_depth']")).to_have_attribute("data-state", "changed")
    expect(params.locator("[data-name='subsample']")).to_have_attribute("data-state", "added")
    packages = page.get_by_test_id("compare-packages")
    expect(packages.locator("[data-name='pandas']")).to_have_attribute("data-state", "removed")
    expect(packages.locator("[data-name='lightgbm']")).to_have_attribute("data-state", "added")
    expect(packages.locator("[data-name='numpy']")).to_have_count(0)  # unchanged: folded away
    expect(page.get_by_test_id("compare-code")).to_contain_text("9b7e2d4")
    expect(page.get_by_test_id("lineage-added")).to_contain_text("applications v2")
    expect(page.get_by_test_id("lineage-added")).to_contain_text("train-spring")
    expect(page.get_by_test_id("lineage-removed")).to_contain_text("applications v1")
    expect(page.get_by_test_id("lineage-shared")).to_contain_text("holdout v1")
    expect(page.locator("h1")).to_have_count(1)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        no_sideways_scroll(page)
        page.screenshot(path=screenshot_dir / f"version-compare-{width}.png", full_page=True)
    assert page_problems(page, "/models/credit-scorer/compare/") == []

    # From the model page: the compare form; swapping reads the change the other way.
    page.goto(f"{live_server.url}/models/credit-scorer/")
    form = page.get_by_test_id("model-compare-form")
    form.get_by_label("Compare", exact=True).select_option("2")
    form.get_by_label("with", exact=True).select_option("1")
    page.get_by_test_id("model-compare-submit").click()
    expect(page.get_by_test_id("compare-title")).to_contain_text("v2 → v1")
    expect(metrics.locator("[data-metric='auc']")).to_have_attribute("data-direction", "down")
    page.get_by_test_id("compare-swap").click()
    expect(page.get_by_test_id("compare-title")).to_contain_text("v1 → v2")

    page.goto(f"{live_server.url}/models/credit-scorer/compare/?a=1&b=7")
    expect(page.get_by_test_id("error-message")).to_contain_text("has no version 7")
