"""A SAML sign-on driven with plain HTTP (requests), as a browser would: Steward redirects to
the IdP, the person signs in there, the IdP's page posts the signed response back to Steward."""

from __future__ import annotations

import re
from html import unescape

import requests

from tests.sso.flows import hidden_inputs
from tests.sso.saml_people import PEOPLE


def sign_on_until_acs(
    steward_base: str, username: str, *, browser: requests.Session | None = None, next_url=""
) -> tuple[requests.Session, str, dict[str, str]]:
    """Start a sign-on at Steward and sign in at the IdP; return the browser, the ACS address
    and the form the IdP's page would post there (not yet posted)."""
    browser = browser or requests.Session()
    start = f"{steward_base}/saml/login/" + (f"?next={next_url}" if next_url else "")
    response = browser.get(start, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text[:500]
    sso = response.headers["Location"]
    page = browser.get(sso, timeout=10)
    assert page.status_code == 200, page.text[:500]
    form = hidden_inputs(page.text)
    form.update(username=username, password=PEOPLE[username]["password"])
    idp_base = sso.split("/sso/")[0]
    answer = browser.post(f"{idp_base}/sso/login/", data=form, timeout=10)
    assert answer.status_code == 200, answer.text[:500]
    action = unescape(re.search(r'action="([^"]+)"', answer.text)[1])
    return browser, action, hidden_inputs(answer.text)


def sign_on(
    steward_base: str, username: str, **kwargs
) -> tuple[requests.Session, requests.Response]:
    browser, action, form = sign_on_until_acs(steward_base, username, **kwargs)
    return browser, browser.post(action, data=form, allow_redirects=False, timeout=10)
