"""The retention section of a deployment's page: everyone who may see the deployment sees how
long its predictions are kept and its legal hold (who, when, why); an administrator also gets
the two forms that place or release the hold and set the days, each with a reason. Anyone
else's POST is a 403 that changes nothing, an invisible deployment a 404, and a refused form
shows its message with its status, never a 500."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from core.models import AuditEvent
from monitoring.models import Deployment
from monitoring.services.retention import deployment_legal_hold_set
from monitoring.tests.test_monitoring_services import live, version  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def page_url(deployment: Deployment) -> str:
    return reverse("monitoring:deployment-detail", args=[deployment.name])


def hold_url(deployment: Deployment) -> str:
    return reverse("monitoring:deployment-legal-hold", args=[deployment.name])


def retention_url(deployment: Deployment) -> str:
    return reverse("monitoring:deployment-retention", args=[deployment.name])


def section(html: str) -> str:
    """The retention section of the page."""
    found = re.search(r'<section[^>]*data-testid="retention-panel".*?</section>', html, re.S)
    assert found, "the page has no retention section"
    return found.group(0)


def chain_head() -> int:
    return AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first()


@pytest.fixture
def global_retention(settings):
    settings.STEWARD_PREDICTION_RETENTION_DAYS = 90


# --- the administrator -------------------------------------------------------------------------


def test_an_administrator_places_and_releases_a_legal_hold_from_the_page(
    client,
    live,  # noqa: F811 - the fixture
    administrator,
):
    client.force_login(administrator)
    panel = section(client.get(page_url(live)).content.decode())
    assert 'data-testid="legal-hold-form"' in panel
    assert 'name="hold" value="place"' in panel and "csrfmiddlewaretoken" in panel
    assert 'data-testid="retention-form"' in panel

    response = client.post(hold_url(live), {"hold": "place", "reason": "Litigation 2026-17."})

    assert response.status_code == 302
    assert response["Location"] == page_url(live) + "#retention"
    live.refresh_from_db()
    assert (live.legal_hold, live.legal_hold_by, live.legal_hold_reason) == (
        True,
        administrator,
        "Litigation 2026-17.",
    )
    event = AuditEvent.objects.get(action="deployment.legal_hold")
    assert (event.actor, event.data["reason"]) == (administrator, "Litigation 2026-17.")
    page = client.get(page_url(live)).content.decode()
    assert "Legal hold placed" in page  # the message
    held = section(page)
    assert "Held" in held and "ada" in held and "Litigation 2026-17." in held
    assert 'name="hold" value="release"' in held

    response = client.post(hold_url(live), {"hold": "release", "reason": "Case closed."})

    assert response.status_code == 302
    live.refresh_from_db()
    assert live.legal_hold is False
    release = AuditEvent.objects.get(action="deployment.legal_hold_release")
    assert release.data["reason"] == "Case closed."
    released = section(client.get(page_url(live)).content.decode())
    assert "Released by ada" in released and "Case closed." in released


def test_an_administrator_sets_the_retention_days_and_back_to_the_global_default(
    client,
    live,  # noqa: F811 - the fixture
    administrator,
    global_retention,
):
    client.force_login(administrator)
    assert "90 days (the global default)" in section(client.get(page_url(live)).content.decode())

    response = client.post(retention_url(live), {"retention_days": "365", "reason": "A year."})

    assert response.status_code == 302
    live.refresh_from_db()
    assert live.retention_days == 365
    event = AuditEvent.objects.get(action="deployment.retention_set")
    assert (event.data["retention_days"], event.data["reason"]) == (365, "A year.")
    panel = section(client.get(page_url(live)).content.decode())
    assert "365 days (this deployment's setting)" in panel
    assert 'value="365"' in panel  # the form shows the current days

    response = client.post(retention_url(live), {"retention_days": "", "reason": "Policy."})

    assert response.status_code == 302
    live.refresh_from_db()
    assert live.retention_days is None
    assert "90 days (the global default)" in section(client.get(page_url(live)).content.decode())


def test_without_any_retention_the_page_says_predictions_are_kept_forever(
    client,
    live,  # noqa: F811 - the fixture
    member,
):
    client.force_login(member)
    panel = section(client.get(page_url(live)).content.decode())
    assert "Kept forever" in panel
    assert "None." in panel  # no legal hold


def test_the_forms_check_the_csrf_token(
    live,  # noqa: F811 - the fixture
    administrator,
):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(administrator)
    refused = browser.post(hold_url(live), {"hold": "place", "reason": "No token."})
    assert refused.status_code == 403
    live.refresh_from_db()
    assert live.legal_hold is False
    browser.get(page_url(live))
    token = browser.cookies["csrftoken"].value

    response = browser.post(
        hold_url(live), {"hold": "place", "reason": "With a token.", "csrfmiddlewaretoken": token}
    )

    assert response.status_code == 302
    live.refresh_from_db()
    assert live.legal_hold is True


# --- refused forms -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "data", "status", "shown"),
    [
        (hold_url, {"hold": "place", "reason": ""}, 400, "Say why."),
        (hold_url, {"hold": "place", "reason": "   "}, 400, "Say why."),
        (hold_url, {"reason": "No choice."}, 400, "place or release"),
        (hold_url, {"hold": "maybe", "reason": "Unsure."}, 400, "place or release"),
        (hold_url, {"hold": "release", "reason": "Nothing held."}, 409, "not under legal hold"),
        (retention_url, {"retention_days": "abc", "reason": "x"}, 400, "whole number"),
        (retention_url, {"retention_days": "0", "reason": "x"}, 400, "from 1 to"),
        (retention_url, {"retention_days": "-1", "reason": "x"}, 400, "whole number"),
        (retention_url, {"retention_days": "2.5", "reason": "x"}, 400, "whole number"),
        (retention_url, {"retention_days": "9" * 40, "reason": "x"}, 400, "whole number"),
        (retention_url, {"retention_days": "36601", "reason": "x"}, 400, "from 1 to"),
        (retention_url, {"retention_days": "٣٠", "reason": "x"}, 400, "whole number"),
        (retention_url, {"retention_days": "30", "reason": ""}, 400, "Say why."),
    ],
)
def test_a_refused_form_shows_the_page_again_with_its_message_and_status(
    client,
    live,  # noqa: F811 - the fixture
    administrator,
    url,
    data,
    status,
    shown,
):
    client.force_login(administrator)
    head = chain_head()

    response = client.post(url(live), data)

    assert response.status_code == status
    panel = section(response.content.decode())
    assert shown in panel
    if data.get("reason", "").strip():
        assert f'value="{data["reason"]}"' in panel  # what was typed is kept
    live.refresh_from_db()
    assert (live.legal_hold, live.retention_days) == (False, None)
    assert chain_head() == head


# --- everyone else -----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["manager", "contributor", "validator", "auditor", "member"])
def test_anyone_but_an_administrator_sees_the_state_but_no_form_and_a_post_is_a_403(
    request,
    client,
    live,  # noqa: F811 - the fixture
    administrator,
    persona,
):
    deployment_legal_hold_set(
        actor=administrator, deployment=live, hold=True, reason="Regulator's inquiry."
    )
    client.force_login(request.getfixturevalue(persona))
    panel = section(client.get(page_url(live)).content.decode())
    assert "Held" in panel and "Regulator&#x27;s inquiry." in panel
    assert "<form" not in panel
    head = chain_head()

    release = client.post(hold_url(live), {"hold": "release", "reason": "Not mine."})
    shorten = client.post(retention_url(live), {"retention_days": "1", "reason": "Not mine."})

    assert (release.status_code, shorten.status_code) == (403, 403)
    assert "Only a platform administrator" in release.content.decode()
    live.refresh_from_db()
    assert (live.legal_hold, live.retention_days) == (True, None)
    assert chain_head() == head


@pytest.mark.parametrize("url", [hold_url, retention_url])
def test_another_teams_user_gets_a_404_and_an_anonymous_one_the_sign_in_page(
    client,
    live,  # noqa: F811 - the fixture
    outsider,
    url,
):
    data = {"hold": "place", "retention_days": "1", "reason": "Curious."}
    anonymous = client.post(url(live), data)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    client.force_login(outsider)
    assert client.post(url(live), data).status_code == 404
    assert client.get(url(live)).status_code == 405  # the forms are POST only
    live.refresh_from_db()
    assert (live.legal_hold, live.retention_days) == (False, None)
