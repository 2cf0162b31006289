"""The auditor's decisions view: one line per decision (not the three or four raw entries each
decision leaves), grouped per version as a timeline, people named with their role, the raw log
one click away, and the counts labelled so they cannot be mistaken for one another."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache

from core.models import AuditEvent
from governance.choices import Action, AnnotationKind
from governance.models import Decision
from governance.services import annotation_create, annotation_resolve
from governance.services.documents import documents_required_generate
from governance.trail import TrailFilters, trail_keys
from governance.trail_timeline import (
    FINDING_RAISED,
    FINDING_RESOLVED,
    timeline_version_ids,
    version_timelines,
)
from tests.factories import ModelVersionFactory, RegisteredModelFactory, version_decide

pytestmark = pytest.mark.django_db
TIMELINE = "/audit/"
RAW = "/audit/log/"
WHY = "Evidence reviewed; the notes say what was checked."


@pytest.fixture(autouse=True)
def _fresh_chain_status():
    cache.clear()
    yield
    cache.clear()


def decide(actor, version, action, motivation=WHY):
    if action in (Action.SUBMIT, Action.APPROVE):
        documents_required_generate(actor=actor, version=version)
    return version_decide(actor=actor, version=version, action=action, motivation=motivation)


@pytest.fixture
def reviewed(team, contributor, validator, manager):
    """credit-risk v1 (medium risk) through a whole review: submitted, claimed, a finding,
    changes requested, resubmitted, the finding resolved, signed off, approved."""
    validator.first_name, validator.last_name = "Vera", "Validator"
    validator.save(update_fields=["first_name", "last_name"])
    model = RegisteredModelFactory(name="credit-risk", owner_team=team, risk_tier="medium")
    version = ModelVersionFactory(registered_model=model, actor=contributor)
    decide(contributor, version, Action.SUBMIT)
    decide(validator, version, Action.CLAIM)
    finding = annotation_create(
        actor=validator,
        target=version,
        kind=AnnotationKind.FINDING,
        body="Threshold not documented.",
    )
    decide(validator, version, Action.REQUEST_CHANGES, "Document the operating threshold.")
    decide(contributor, version, Action.SUBMIT)
    decide(validator, version, Action.CLAIM)
    annotation_resolve(actor=validator, annotation=finding, motivation="Threshold documented.")
    decide(validator, version, Action.SIGN_OFF, "Metrics reproduced; threshold documented.")
    decide(manager, version, Action.APPROVE, "One sign-off, no open finding: approved.")
    other = ModelVersionFactory(registered_model=model, actor=contributor)
    decide(contributor, other, Action.SUBMIT)
    return {"v1": version, "v2": other}


def test_it_tells_each_decision_once_in_order_with_names_and_roles(reviewed):
    filters = TrailFilters(version="credit-risk/1")
    (timeline,) = version_timelines(list(timeline_version_ids(filters)), filters)

    labels = [e.label for e in timeline.entries]
    assert labels == [
        "Submitted for validation",
        "Claimed for validation",
        "Finding raised",
        "Changes requested",
        "Submitted for validation",
        "Claimed for validation",
        "Finding resolved",
        "Signed off",
        "Approved for production",
    ]
    assert timeline.decision_count == Decision.objects.filter(version=reviewed["v1"]).count()
    sign_off = timeline.entries[7]
    assert sign_off.actor == "Vera Validator (vera)" and sign_off.role == "Validator"
    assert sign_off.text == "Metrics reproduced; threshold documented."
    assert sign_off.state_change == "In validation → Validated"
    assert timeline.entries[8].role == "Manager" and timeline.entries[0].role == "Contributor"
    assert timeline.entries[2].kind == FINDING_RAISED
    assert timeline.entries[6].kind == FINDING_RESOLVED
    assert timeline.entries[6].text == "Threshold documented."
    # Far fewer lines than the raw log holds for the same version.
    assert len(trail_keys(filters)) > len(timeline.entries)


def test_the_most_recently_decided_version_comes_first(reviewed):
    ids = list(timeline_version_ids(TrailFilters()))
    assert ids == [reviewed["v2"].pk, reviewed["v1"].pk]


def test_the_user_filter_keeps_that_persons_decisions(reviewed, validator):
    filters = TrailFilters(user="VERA")
    timelines = version_timelines(list(timeline_version_ids(filters)), filters)
    assert [t.version for t in timelines] == [reviewed["v1"]]
    assert {e.actor for e in timelines[0].entries} == {"Vera Validator (vera)"}


def test_an_auditor_reads_the_timeline_with_counts_that_cannot_be_confused(
    client, auditor, reviewed
):
    client.force_login(auditor)
    response = client.get(TIMELINE)
    assert response.status_code == 200
    html = response.content.decode()
    decisions = Decision.objects.count()
    raw = len(trail_keys(TrailFilters()))
    events = AuditEvent.objects.count()
    count = re.sub(r"<[^>]+>|\s+", " ", re.search(r'result-count">(.*?)</p>', html, re.S)[1])
    assert " ".join(count.split()) == (
        f"{decisions} decisions · {raw} raw entries · chain of {events} events verified"
    )
    assert html.count('data-testid="timeline-version"') == 2
    assert "Vera Validator (vera)" in html and "as validator" in html
    assert "Metrics reproduced; threshold documented." in html
    # The raw log is one click away, as a tab and per version.
    assert 'href="/audit/log/"' in html and 'data-testid="tab-raw-log"' in html
    assert 'href="/audit/log/?version=credit-risk/1"' in html
    # No raw ids: versions are named, not "model_version 12".
    assert "credit-risk v1" in html and "model_version" not in html


def test_the_filters_carry_over_to_the_raw_log_tab(client, auditor, reviewed):
    client.force_login(auditor)
    html = client.get(TIMELINE, {"model": "credit-risk", "user": "vera"}).content.decode()
    assert 'href="/audit/log/?model=credit-risk&amp;user=vera"' in html
    raw = client.get(RAW, {"model": "credit-risk", "user": "vera"})
    assert raw.status_code == 200 and 'data-testid="trail-table"' in raw.content.decode()


def test_bad_filters_answer_400(client, auditor):
    client.force_login(auditor)
    assert client.get(TIMELINE, {"version": "credit-risk"}).status_code == 400
    assert client.get(TIMELINE, {"since": "yesterday"}).status_code == 400


@pytest.mark.parametrize("persona", ["contributor", "outsider", "validator", "manager"])
def test_it_refuses_everyone_but_auditors_and_administrators(client, request, persona, reviewed):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(TIMELINE)
    assert response.status_code == 403
    assert "Signed off" not in response.content.decode()


def test_administrators_read_it_and_anonymous_visitors_sign_in(client, administrator, reviewed):
    assert client.get(TIMELINE).status_code == 302
    client.force_login(administrator)
    assert client.get(TIMELINE).status_code == 200
