"""The governance API: decisions with motivations, the summary, annotations (the inbox:
test_inbox_api.py)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from governance.models import Annotation, Decision
from registry.choices import RiskTier
from tests.factories import ModelVersionFactory, RegisteredModelFactory

pytestmark = pytest.mark.django_db
WHY = "All the evidence is in order."


@pytest.fixture
def version(contributor, team):
    model = RegisteredModelFactory(name="credit", owner_team=team, risk_tier=RiskTier.MEDIUM)
    return ModelVersionFactory(actor=contributor, registered_model=model)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


URL = "/api/v1/models/credit/versions/1/transitions/"


def test_a_decision_is_posted_and_listed(version, contributor, validator):
    response = api(contributor).post(URL, {"action": "submit", "motivation": WHY}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["to_state"] == "submitted"
    assert response.json()["actor"] == "carol"
    history = api(validator).get(URL).json()
    assert [d["action"] for d in history] == ["submit"]


def test_refusals_have_the_right_status_and_change_nothing(
    version, contributor, validator, outsider
):
    cases = [
        (contributor, {"action": "submit", "motivation": ""}, 400),
        (contributor, {"action": "fly", "motivation": WHY}, 400),
        (validator, {"action": "approve", "motivation": WHY}, 409),  # illegal from draft
        (validator, {"action": "submit", "motivation": WHY}, 403),  # not a contributor
        (outsider, {"action": "submit", "motivation": WHY}, 404),  # cannot see it
    ]
    for user, payload, expected in cases:
        response = api(user).post(URL, payload, format="json")
        assert response.status_code == expected, (payload, response.json())
        assert response.json()["message"]
    assert not Decision.objects.exists()
    version.refresh_from_db()
    assert version.status == "draft"


def test_separation_of_duties_is_a_403_with_the_reason(version, contributor):
    from accounts.services import role_assign

    role_assign(user=contributor, role="validator")
    api(contributor).post(URL, {"action": "submit", "motivation": WHY}, format="json")
    response = api(contributor).post(URL, {"action": "claim", "motivation": WHY}, format="json")
    assert response.status_code == 403
    assert "registered this version" in response.json()["message"]


def test_the_summary_says_which_guards_pass_and_what_i_may_do(version, contributor):
    body = api(contributor).get("/api/v1/models/credit/versions/1/governance/").json()
    assert body["status"] == "draft"
    assert body["required_sign_offs"] == 1
    assert {g["name"] for g in body["policy_guards"]} >= {"enough_sign_offs", "metric_checks"}
    assert [(o["action"], o["allowed"]) for o in body["options"]] == [("submit", True)]


def test_annotations_are_written_rendered_safely_and_resolved(version, contributor, validator):
    response = api(validator).post(
        "/api/v1/annotations/",
        {
            "target_type": "model_version",
            "target": "credit/1",
            "kind": "finding",
            "body": "**Leakage** in `feature_x` <script>alert(1)</script>",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    note = response.json()
    assert "<strong>Leakage</strong>" in note["body_html"]
    assert "<script>" not in note["body_html"]
    reply = api(contributor).post(
        "/api/v1/annotations/",
        {
            "target_type": "model_version",
            "target": "credit/1",
            "body": "Fixed in v2.",
            "parent": note["id"],
        },
        format="json",
    )
    assert reply.status_code == 201
    listed = (
        api(contributor)
        .get("/api/v1/annotations/?target_type=model_version&target=credit/1")
        .json()
    )
    assert [a["kind"] for a in listed] == ["finding", "note"]
    url = f"/api/v1/annotations/{note['id']}/resolve/"
    refused = api(contributor).post(url, {"motivation": "Fixed in v2, closing."}, format="json")
    assert refused.status_code == 403
    assert "registered or submitted" in refused.json()["message"]
    assert api(validator).post(url, {}, format="json").status_code == 400
    resolved = api(validator).post(url, {"motivation": "Checked v2: fixed."}, format="json")
    assert resolved.status_code == 200
    assert resolved.json()["resolved_by"] == "vera"
    thread = (
        api(contributor)
        .get("/api/v1/annotations/?target_type=model_version&target=credit/1")
        .json()
    )
    assert [(a["kind"], a["body"]) for a in thread][-1] == ("motivation", "Checked v2: fixed.")


def test_annotations_on_invisible_things_are_404(version, outsider, validator):
    response = api(outsider).post(
        "/api/v1/annotations/",
        {"target_type": "model_version", "target": "credit/1", "body": "Hello"},
        format="json",
    )
    assert response.status_code == 404
    note = Annotation.objects.create(target=version, author=validator, body="x", kind="finding")
    assert api(outsider).post(f"/api/v1/annotations/{note.pk}/resolve/").status_code == 404
    assert (
        api(outsider)
        .get("/api/v1/annotations/?target_type=model_version&target=credit/1")
        .status_code
        == 404
    )


def test_the_header_count_agrees_with_the_inbox_at_a_constant_cost(
    version, contributor, validator, team
):
    """inbox_count is what the header shows on every page: it must equal the inbox, leave out
    what separation of duties keeps from someone, and not grow in queries with the inbox."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.services import role_assign
    from governance.queue_selectors import awaiting_my_decision
    from governance.selectors import inbox_count
    from governance.services import version_transition

    role_assign(user=contributor, role="validator")  # may validate, but not her own version
    version_transition(actor=contributor, version=version, action="submit", motivation=WHY)
    for person in (contributor, validator):
        assert inbox_count(person) == awaiting_my_decision(person).count()
    assert inbox_count(validator) == 1
    assert inbox_count(contributor) == 0

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            inbox_count(validator)
        return len(ctx.captured_queries)

    before = queries()
    for _ in range(4):
        other = ModelVersionFactory(actor=contributor, registered_model=version.registered_model)
        version_transition(actor=contributor, version=other, action="submit", motivation=WHY)
    assert inbox_count(validator) == 5
    assert queries() == before
