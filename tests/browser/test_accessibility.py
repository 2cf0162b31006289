"""Accessibility of the main pages in a real Chromium, failing on regressions: every form control
has a label, every image a text alternative, text contrasts with what is behind it (WCAG AA:
4.5:1, 3:1 for large text), each page has exactly one ``h1``, and the keyboard focus ring of
the header's links and buttons stands out 3:1 against the dark header.

Labels, alternatives and text contrast are axe-core's rules (the ``axe-playwright-python``
test dependency ships ``axe.min.js``): the browser driver evaluates it in the page, so nothing
of it is served by the app nor allowed by the pages' content security policy. Text contrast is
computed by axe from the computed styles of each text element, foreground against the
effective background it finds behind the text. The ``h1`` count and the focus ring are measured
here, from the DOM and the computed styles of the element the Tab key focused."""

from __future__ import annotations

from datetime import timedelta
from importlib import resources

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.choices import RoleName, TokenScope
from accounts.services import role_assign, token_create
from governance.choices import AnnotationKind
from governance.services import annotation_create
from monitoring.models import Alert
from registry.choices import DatasetRole

# Fixtures: a version deployed in production, drifting, with an alert and charts to draw.
from tests.browser.test_monitoring import approved_version, deployments_panel, monitored  # noqa: F401
from tests.factories import (
    PASSWORD,
    DatasetFactory,
    DatasetVersionFactory,
    RunFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE_SOURCE = (resources.files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")
# axe-core rules: form controls named by a label, images with a text alternative, text contrast.
AXE_RULES = [
    "label",
    "select-name",
    "input-button-name",
    "button-name",
    "image-alt",
    "input-image-alt",
    "role-img-alt",
    "svg-img-alt",
    "area-alt",
    "object-alt",
    "color-contrast",
]
# Pages whose second h1 another change is removing; empty when every page has one h1.
KNOWN_EXTRA_H1: set[str] = set()

COUNT_H1 = "() => [...document.querySelectorAll('h1')].map(h => h.textContent.trim())"

# The focused element's outline against the background around it (the first opaque background
# of its ancestors): WCAG's relative luminance and contrast ratio.
FOCUS_RING = """
() => {
  const el = document.activeElement;
  if (!el || !el.closest('.site-header')) return null;
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = (rgb) => {
    const [r, g, b] = rgb.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  let behind = el.parentElement, bg = [255, 255, 255];
  while (behind) {
    const c = parse(getComputedStyle(behind).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0)) { bg = c; break; }
    behind = behind.parentElement;
  }
  const style = getComputedStyle(el);
  const ring = parse(style.outlineColor);
  const [hi, lo] = [lum(ring), lum(bg)].sort((a, b) => b - a);
  return {
    element: `${el.tagName.toLowerCase()} "${(el.textContent || '').trim().slice(0, 30)}"`,
    style: style.outlineStyle,
    width: parseFloat(style.outlineWidth),
    ratio: Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100,
  };
}
"""


@pytest.fixture
def admin_user(db, team):
    """A staff administrator: sees every page, the admin and audit links included."""
    user = UserFactory(username="ada", is_staff=True, is_superuser=True)
    role_assign(user=user, role=RoleName.ADMINISTRATOR)
    return user


@pytest.fixture
def catalogue(monitored, team, contributor, validator):  # noqa: F811
    """Around the deployed credit-scorer v1: a dataset with a version, the run that read it,
    and a long finding on the version (the page collapses it)."""
    data = DatasetVersionFactory(
        actor=contributor,
        dataset=DatasetFactory(actor=contributor, name="applications", owner_team=team),
        uri="s3://lake/applications/2025-q1.parquet",
        row_count=48_210,
        schema={"income": "float", "age": "int"},
    )
    run = RunFactory(
        actor=contributor,
        team=team,
        name="train-credit-2025-q1",
        inputs=[(data, DatasetRole.TRAIN)],
        params={"max_depth": 6},
        metrics={"auc": 0.91},
    )
    annotation_create(
        actor=validator,
        target=monitored.model_version,
        kind=AnnotationKind.FINDING,
        body="The income feed changed its units in March. " * 40,
    )
    return {"run": run, "alert": Alert.objects.filter(deployment=monitored).first()}


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("current-user")).to_be_visible()


def axe_violations(page: Page) -> list[str]:
    """What axe finds on the page: one line per rule and element."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    result = page.evaluate(
        "rules => axe.run(document, {runOnly: {type: 'rule', values: rules},"
        " resultTypes: ['violations']})",
        AXE_RULES,
    )
    return [
        f"{rule['id']}: {node['target']} {node['failureSummary'].splitlines()[-1].strip()}"
        for rule in result["violations"]
        for node in rule["nodes"]
    ]


def page_problems(page: Page, path: str) -> list[str]:
    problems = [f"{path} {line}" for line in axe_violations(page)]
    headings = page.evaluate(COUNT_H1)
    if len(headings) != 1 and path not in KNOWN_EXTRA_H1:
        problems.append(f"{path} has {len(headings)} h1 (exactly one wanted): {headings}")
    return problems


@pytest.mark.usefixtures("deployments_panel")
def test_the_main_pages_have_labels_alt_text_one_h1_and_readable_contrast(
    page: Page, live_server, admin_user, catalogue
):
    base = live_server.url
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{base}/login/")
    problems = page_problems(page, "/login/")
    sign_in(page, base, admin_user.username)

    paths = [
        "/models/",
        "/models/credit-scorer/",
        "/models/credit-scorer/versions/1/",
        "/datasets/",
        "/datasets/applications/",
        "/datasets/applications/versions/1/",
        "/runs/",
        f"/runs/{catalogue['run'].uuid}/",
        "/inbox/",
        "/audit/",
        "/monitoring/",
        "/monitoring/deployments/credit-scorer-prod/",
        f"/monitoring/alerts/{catalogue['alert'].pk}/",
        "/account/tokens/",
    ]
    for path in paths:
        response = page.goto(f"{base}{path}")
        assert response is not None and response.status == 200, (path, response and response.status)
        page.wait_for_load_state("networkidle")
        problems += page_problems(page, path)
        if path == "/runs/":  # the main nav's Runs link, marked as the current section
            expect(page.get_by_test_id("runs-link")).to_have_attribute("aria-current", "page")
    assert problems == [], "\n".join(problems)


def test_the_header_focus_ring_stands_out_from_the_dark_header(page: Page, live_server, admin_user):
    base = live_server.url
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, base, admin_user.username)
    page.goto(f"{base}/models/")
    rings = []
    for _ in range(15):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        if ring is not None:
            rings.append(ring)
    # The brand, the main nav (Inbox, Models, Datasets, Runs, Monitoring, Audit, API docs,
    # Admin), Tokens and Sign out: every one reached by Tab, each with a visible ring.
    assert len(rings) >= 10, rings
    weak = [r for r in rings if r["style"] == "none" or r["width"] < 2 or r["ratio"] < 3]
    assert weak == [], weak


def test_the_tokens_table_shows_every_column_at_1400_px(
    page: Page, live_server, admin_user, screenshot_dir
):
    base = live_server.url
    expires = timezone.now() + timedelta(days=90)
    for name in ("nightly training pipeline", "monitoring collector (production)"):
        _, secret = token_create(
            actor=admin_user, name=name, scopes=list(TokenScope.values), expires_at=expires
        )
        # Used once: the table shows when and from where.
        answer = page.request.get(
            f"{base}/api/v1/models/", headers={"Authorization": f"Bearer {secret}"}
        )
        assert answer.status == 200
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, base, admin_user.username)
    page.goto(f"{base}/account/tokens/")
    table = page.get_by_test_id("token-table")
    expect(page.get_by_test_id("token-row")).to_have_count(2)
    clipped = table.evaluate("t => t.parentElement.scrollWidth - t.parentElement.clientWidth")
    assert clipped <= 0, f"the tokens table is cut off by {clipped}px"
    expect(page.get_by_test_id("revoke-token").first).to_be_in_viewport()
    page.screenshot(path=screenshot_dir / "tokens-table-1400.png", full_page=True)


@pytest.mark.usefixtures("deployments_panel")
def test_a_long_annotation_is_folded_until_show_more(
    page: Page, live_server, admin_user, catalogue, screenshot_dir
):
    base = live_server.url
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, base, admin_user.username)
    page.goto(f"{base}/models/credit-scorer/versions/1/")
    body = page.get_by_test_id("annotation-body-html").first
    body.scroll_into_view_if_needed()
    folded = body.evaluate("e => [e.clientHeight, e.scrollHeight]")
    assert folded[0] < folded[1] / 2, folded  # only its first lines show
    page.screenshot(path=screenshot_dir / "annotation-folded.png")
    page.get_by_test_id("annotation-fold").first.get_by_text("Show more").click()
    expect(page.get_by_test_id("annotation-fold").first.get_by_text("Show less")).to_be_visible()
    unfolded = body.evaluate("e => [e.clientHeight, e.scrollHeight]")
    assert unfolded[0] >= unfolded[1], unfolded
