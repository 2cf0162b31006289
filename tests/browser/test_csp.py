"""The content security policy in a real Chromium: every main page (the catalogue, a version page
with its lineage picture and review section, the monitoring dashboard and a deployment page with
charts, the tokens page, the admin, the API docs) is served with the strict policy and runs
without one refused script, style, image or frame."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.choices import RoleName
from accounts.services import role_assign

# Fixtures: a deployed version with charts to draw.
from tests.browser.test_monitoring import approved_version, deployments_panel, monitored  # noqa: F401
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every securitypolicyviolation event a page fires, kept where the test can read it. Injected
# by the browser driver, not the page, so the policy under test does not apply to it.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(
    `${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


def _directives(header: str) -> dict[str, list[str]]:
    parts = (part.split() for part in header.split(";") if part.strip())
    return {part[0]: part[1:] for part in parts}


class PolicyWatch:
    """Opens pages and keeps what the browser refused: console messages about the content
    security policy and the pages' violation events."""

    def __init__(self, page: Page, base: str):
        self.page, self.base = page, base
        self.refused: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or message.text.startswith("Refused to"):
            self.refused.append(f"{self.page.url}: {message.text}")

    def open(self, path: str) -> dict[str, list[str]]:
        """Open ``path``, wait until it has settled, and return its policy's directives."""
        response = self.page.goto(f"{self.base}{path}")
        assert response is not None and response.status == 200, (path, response and response.status)
        self.page.wait_for_load_state("networkidle")
        self.collect()
        header = response.headers.get("content-security-policy")
        assert header, f"{path} has no Content-Security-Policy header"
        return _directives(header)

    def collect(self) -> None:
        events = self.page.evaluate("window.__cspViolations || []")
        self.refused.extend(f"{self.page.url}: {event}" for event in events)
        self.page.evaluate("window.__cspViolations = []")


def assert_strict(directives: dict[str, list[str]]) -> None:
    """The site's own policy: only its own scripts and styles (a nonce at most), no plugins,
    never framed, forms posted only to itself."""
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"][0] == "'self'"
    assert all(re.fullmatch(r"'nonce-[A-Za-z0-9+/=]+'", v) for v in directives["script-src"][1:])
    assert "'unsafe-inline'" not in directives["style-src"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]


@pytest.fixture
def admin_user(db, team):
    """A staff administrator: sees every page, the admin included."""
    user = UserFactory(username="ada", is_staff=True, is_superuser=True)
    role_assign(user=user, role=RoleName.ADMINISTRATOR)
    return user


@pytest.mark.usefixtures("monitored", "deployments_panel")
def test_it_serves_every_main_page_under_the_strict_policy_without_a_violation(
    page: Page, live_server, admin_user
):
    watch = PolicyWatch(page, live_server.url)
    page.set_viewport_size({"width": 1360, "height": 900})

    assert_strict(watch.open("/login/"))
    page.get_by_label("Username").fill(admin_user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("current-user")).to_be_visible()
    watch.collect()

    assert_strict(watch.open("/models/"))
    expect(page.get_by_test_id("site-header")).to_have_css("background-color", "rgb(15, 23, 42)")

    # The version page: lineage picture (sized by a nonce'd <style>), review section, deployments.
    version_page = watch.open("/models/credit-scorer/versions/1/")
    assert_strict(version_page)
    nonce = next(v for v in version_page["style-src"] if v.startswith("'nonce-"))
    style = page.locator("style[nonce]")
    expect(style).to_have_count(1)
    assert f"'nonce-{style.evaluate('e => e.nonce')}'" == nonce
    svg = page.get_by_test_id("lineage-svg")
    expect(svg).to_be_visible()
    assert svg.evaluate("e => getComputedStyle(e).maxWidth").endswith("px")
    expect(page.get_by_test_id("deployments-panel")).to_be_visible()
    # The sign-off meter: a <progress>, drawn without an inline style.
    expect(page.locator("progress.meter")).to_have_count(1)

    assert_strict(watch.open("/inbox/"))
    assert_strict(watch.open("/monitoring/"))
    expect(page.get_by_test_id("deployment-row")).to_have_count(3)

    assert_strict(watch.open("/monitoring/deployments/credit-scorer-prod/"))
    chart = page.locator("svg[data-chart='drift-trend']")
    expect(chart).to_be_visible()
    # Chart colours come from presentation attributes, not the refused style="".
    series = chart.locator(".chart-series path").first
    assert series.evaluate("e => getComputedStyle(e).stroke") != "none"
    assert page.locator("svg[data-chart] [style]").count() == 0

    # The tokens page shows a new secret with a copy button; its script is a file of the site's.
    assert_strict(watch.open("/account/tokens/"))
    page.get_by_label("Name").fill("ci")
    page.locator("input[name='scopes']").first.check()
    page.get_by_test_id("create-token").click()
    expect(page.get_by_test_id("copy-secret")).to_be_visible()
    expect(page.locator("script[src$='js/copy-buttons.js']")).to_have_count(1)
    watch.collect()

    assert_strict(watch.open("/admin/"))
    assert_strict(watch.open("/admin/registry/modelversion/"))
    assert_strict(watch.open("/admin/registry/modelversion/1/change/"))

    # DRF's browsable API (not rendered here: a library it bundles sets an inline event handler,
    # which the policy refuses): strict scripts; its templates' inline styles allowed there only,
    # not on the JSON answers.
    html = page.request.get(f"{live_server.url}/api/v1/", headers={"Accept": "text/html"})
    api = _directives(html.headers["content-security-policy"])
    assert api["script-src"] == ["'self'"] and api["style-src"] == ["'self'", "'unsafe-inline'"]
    answer = page.request.get(f"{live_server.url}/api/v1/", headers={"Accept": "application/json"})
    assert_strict(_directives(answer.headers["content-security-policy"]))

    assert watch.refused == [], "\n".join(watch.refused)


# Redoc's sidebar shows its maker's logo from their CDN; the policy refuses it (the pages fetch
# nothing from elsewhere) and Redoc has no setting to leave it out.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def test_the_api_docs_work_under_their_own_looser_policy(page: Page, live_server, admin_user):
    """Swagger UI and Redoc style their elements inline as they run: their pages, and only
    theirs, allow inline styles; their scripts still need the site's origin or the nonce."""
    watch = PolicyWatch(page, live_server.url)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(admin_user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("current-user")).to_be_visible()

    for path, ready in (("/api/docs/", ".swagger-ui .info"), ("/api/redoc/", "[role=search]")):
        directives = watch.open(path)
        expect(page.locator(ready).first).to_be_visible(timeout=20_000)
        watch.collect()
        assert directives["style-src"] == ["'self'", "'unsafe-inline'"]
        assert "'unsafe-inline'" not in directives["script-src"]
        assert any(v.startswith("'nonce-") for v in directives["script-src"])
        assert directives["frame-ancestors"] == ["'none'"]

    refused = [line for line in watch.refused if REDOC_LOGO not in line]
    assert refused == [], "\n".join(refused)
