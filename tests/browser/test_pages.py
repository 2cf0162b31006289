"""The browser pages in a real Chromium: sign in, find a model, follow its provenance down to
the data it was trained on, through the drawn lineage graph. Full-page screenshots of each step
are saved for review."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from registry.choices import DatasetRole, RiskTier
from tests.factories import (
    PASSWORD,
    DatasetFactory,
    DatasetVersionFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    RunFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def provenance(team, other_team, contributor):
    """iris v1 -> training run -> credit-scorer v1 -> credit-scorer v2, registered by the
    contributor, plus another team's model so that search has something to leave out."""
    author = contributor
    dataset_version = DatasetVersionFactory(
        actor=author,
        dataset=DatasetFactory(actor=author, name="iris", owner_team=team, tags=["tabular"]),
        uri="s3://lake/iris/2024-06-01.parquet",
        row_count=150,
        size_bytes=4_551,
        description="Initial snapshot from the UCI archive.",
        schema={"sepal_length": "float", "sepal_width": "float", "species": "category"},
        profile={
            "sepal_length": {"mean": 5.84, "std": 0.83, "min": 4.3, "max": 7.9},
            "sepal_width": {"mean": 3.05, "std": 0.43, "min": 2.0, "max": 4.4},
        },
    )
    run = RunFactory(
        actor=author,
        team=team,
        name="train-credit-2024-06",
        inputs=[(dataset_version, DatasetRole.TRAIN)],
        params={"max_depth": 6, "n_estimators": 300},
        metrics={"auc": 0.93, "log_loss": 0.21},
        code_repository="https://git.example.org/risk/credit-scorer",
        code_commit="9f1c2e7a1b3d",
        code_path="training/train.py",
        python_version="3.11.9",
        packages={"scikit-learn": "1.5.2", "numpy": "2.1.0", "pandas": "2.2.3"},
    )
    model = RegisteredModelFactory(
        actor=author,
        name="credit-scorer",
        owner_team=team,
        risk_tier=RiskTier.HIGH,
        description="Scores retail credit applications for default risk.",
        tags=["credit", "pii"],
    )
    v1 = ModelVersionFactory(
        actor=author,
        registered_model=model,
        run=run,
        artifact_size=2_480_311,
        metrics={"auc": 0.91, "ks": 0.42, "brier": 0.12},
        params={"max_depth": 6, "n_estimators": 300},
        input_schema={"income": "float", "age": "int", "employment_years": "float"},
        output_schema={"default_probability": "float"},
        code_repository="https://git.example.org/risk/credit-scorer",
        code_commit="9f1c2e7a1b3d",
        python_version="3.11.9",
        packages={"scikit-learn": "1.5.2", "numpy": "2.1.0"},
        image_digest="sha256:" + "ab" * 32,
    )
    ModelVersionFactory(
        actor=author, registered_model=model, derived_from=v1, metrics={"auc": 0.92, "ks": 0.44}
    )
    RegisteredModelFactory(
        name="fraud-detector",
        owner_team=team,
        risk_tier=RiskTier.CRITICAL,
        description="Flags suspicious card payments.",
    )
    # Another team's model: the reader must never see it.
    RegisteredModelFactory(
        name="churn-predictor",
        risk_tier=RiskTier.LOW,
        tags=["marketing"],
        owner_team=other_team,
        description="Which customers will leave.",
    )
    return {"dataset_version": dataset_version, "run": run, "v1": v1}


@pytest.fixture
def reader(teammate):
    """The contributor's teammate, who reads the pages."""
    teammate.first_name, teammate.last_name = "Tom", "Lindqvist"
    teammate.save(update_fields=["first_name", "last_name"])
    return teammate


def sign_in(page: Page, base: str, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_test_id("login-submit").click()


def test_it_follows_a_model_to_its_training_data(
    page: Page, live_server, provenance, reader, screenshot_dir
):
    base = live_server.url

    page.goto(f"{base}/models/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/models/"))
    # The stylesheet is served and applied (the header is dark, not the browser default).
    expect(page.get_by_test_id("site-header")).to_have_css("background-color", "rgb(15, 23, 42)")
    page.screenshot(path=screenshot_dir / "login.png", full_page=True)

    sign_in(page, base, "tom", PASSWORD)
    expect(page).to_have_url(f"{base}/models/")
    expect(page.get_by_test_id("current-user")).to_have_text("Tom Lindqvist")
    expect(page.get_by_test_id("model-row")).to_have_count(2)
    expect(page.get_by_text("churn-predictor")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "catalogue.png", full_page=True)

    page.get_by_test_id("search-input").fill("credit")
    page.get_by_test_id("search-submit").click()
    expect(page).to_have_url(re.compile(r"search=credit"))
    expect(page.get_by_test_id("model-row")).to_have_count(1)

    page.get_by_role("link", name="credit-scorer", exact=True).click()
    expect(page.get_by_test_id("model-name")).to_have_text("credit-scorer")
    expect(page.get_by_test_id("version-row")).to_have_count(2)
    page.screenshot(path=screenshot_dir / "model.png", full_page=True)

    page.get_by_role("link", name="v1", exact=True).click()
    expect(page).to_have_url(f"{base}/models/credit-scorer/versions/1/")
    expect(page.get_by_test_id("artifact-sha256")).to_have_text(provenance["v1"].artifact_sha256)
    svg = page.get_by_test_id("lineage-svg")
    expect(svg).to_be_visible()
    expect(svg.locator("g.kind_dataset_version")).to_contain_text("iris v1")
    expect(svg.locator("g.kind_run")).to_contain_text("train-credit-2024-06")
    expect(svg.locator("g.kind_model_version.root")).to_contain_text("credit-scorer v1")
    expect(svg.locator("g.kind_model_version")).to_have_count(2)
    page.screenshot(path=screenshot_dir / "version.png", full_page=True)

    svg.locator("g.kind_dataset_version a").click()
    expect(page).to_have_url(f"{base}/datasets/iris/versions/1/")
    expect(page.get_by_test_id("dataset-uri")).to_have_text("s3://lake/iris/2024-06-01.parquet")
    expect(page.get_by_test_id("used-by-models")).to_contain_text("credit-scorer v1")
    expect(page.get_by_test_id("lineage-svg")).to_be_visible()
    page.screenshot(path=screenshot_dir / "dataset.png", full_page=True)

    page.get_by_test_id("used-by-runs").get_by_role("link", name="train-credit-2024-06").click()
    expect(page.get_by_test_id("run-title")).to_have_text("train-credit-2024-06")
    expect(page.get_by_test_id("run-outputs")).to_contain_text("credit-scorer v1")
    page.screenshot(path=screenshot_dir / "run.png", full_page=True)


def test_it_says_so_when_the_password_is_wrong(page: Page, live_server, reader, screenshot_dir):
    page.goto(f"{live_server.url}/login/")

    sign_in(page, live_server.url, "tom", "not-the-password")

    expect(page.get_by_test_id("login-error")).to_contain_text("correct username and password")
    expect(page).to_have_url(f"{live_server.url}/login/")
    page.screenshot(path=screenshot_dir / "login-error.png", full_page=True)


def test_it_signs_out_from_the_header(page: Page, live_server, reader):
    page.goto(f"{live_server.url}/login/")
    sign_in(page, live_server.url, "tom", PASSWORD)

    page.get_by_test_id("logout").click()

    expect(page).to_have_url(f"{live_server.url}/login/")
    page.goto(f"{live_server.url}/models/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/models/"))


def test_it_redraws_the_lineage_at_a_chosen_depth(
    page: Page, live_server, provenance, reader, screenshot_dir
):
    page.goto(f"{live_server.url}/login/?next=/models/credit-scorer/versions/2/")
    sign_in(page, live_server.url, "tom", PASSWORD)
    svg = page.get_by_test_id("lineage-svg")
    expect(svg.locator("g.lineage_node")).to_have_count(4)

    page.get_by_label("Depth").fill("1")
    page.get_by_role("button", name="Redraw").click()

    expect(page).to_have_url(re.compile(r"depth=1$"))
    expect(svg.locator("g.lineage_node")).to_have_count(2)
    expect(page.get_by_test_id("lineage-truncated")).to_be_visible()

    page.goto(f"{live_server.url}/models/credit-scorer/versions/2/?depth=abc")
    expect(page.get_by_test_id("error-message")).to_contain_text("depth must be an integer")
    page.screenshot(path=screenshot_dir / "bad-depth.png", full_page=True)
