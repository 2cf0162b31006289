"""A sign-on driven with plain HTTP (requests), as a browser would: Steward sends the browser
to the provider, the person signs in and consents there, the provider sends the browser back to
Steward's callback. Used where no page needs looking at (refusals, replays, the API)."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

import requests

from tests.sso.people import PEOPLE


class _Inputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name") and attrs.get("type") == "hidden":
            self.values[attrs["name"]] = attrs.get("value") or ""


def hidden_inputs(html: str) -> dict[str, str]:
    parser = _Inputs()
    parser.feed(html)
    return parser.values


def sign_on_until_callback(
    steward_base: str, username: str, *, browser: requests.Session | None = None, next_url=""
) -> tuple[requests.Session, str]:
    """Start a sign-on at Steward and go through the provider's sign-in and consent; return
    the browser and the callback URL the provider sends it to (not yet followed)."""
    browser = browser or requests.Session()
    start = f"{steward_base}/oidc/authenticate/" + (f"?next={next_url}" if next_url else "")
    response = browser.get(start, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text[:500]
    authorize = response.headers["Location"]
    response = browser.get(authorize, allow_redirects=False, timeout=10)
    if response.status_code == 302 and "/accounts/login/" in response.headers["Location"]:
        login_url = urljoin(authorize, response.headers["Location"])
        page = browser.get(login_url, timeout=10)
        form = hidden_inputs(page.text)
        form.update(username=username, password=PEOPLE[username]["password"])
        response = browser.post(login_url, data=form, allow_redirects=False, timeout=10)
        assert response.status_code == 302, "the provider refused the password"
        response = browser.get(
            urljoin(authorize, response.headers["Location"]), allow_redirects=False, timeout=10
        )
    assert response.status_code == 200, f"no consent page: {response.status_code}"
    consent = hidden_inputs(response.text)
    consent["allow"] = "Authorize"
    response = browser.post(authorize, data=consent, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text[:500]
    callback = response.headers["Location"]
    assert callback.startswith(f"{steward_base}/oidc/callback/"), callback
    return browser, callback
