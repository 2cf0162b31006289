"""The review console in the browser pages: the inbox per persona, the version page's review
section, and its forms. Every refusal is a page with a clear message and the error's status,
and changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from governance.choices import Action, AnnotationKind
from governance.models import Annotation, Decision
from governance.services import annotation_create, version_transition
from registry.choices import RiskTier
from registry.choices import VersionStatus as S
from tests.factories import ModelVersionFactory, RegisteredModelFactory, approval_sections_write

pytestmark = pytest.mark.django_db
WHY = "Evidence reviewed; the hold-out metrics reproduce."


def act(actor, version, action, motivation=WHY):
    version_transition(actor=actor, version=version, action=action, motivation=motivation)
    version.refresh_from_db()


def page_url(version) -> str:
    return reverse(
        "registry:model-version-detail", args=[version.registered_model.name, version.version]
    )


def decide_url(version) -> str:
    return reverse(
        "governance:version-decide", args=[version.registered_model.name, version.version]
    )


def annotate_url(version) -> str:
    return reverse(
        "governance:version-annotate", args=[version.registered_model.name, version.version]
    )


@pytest.fixture
def scorer(team, contributor):
    """A medium-risk model of Credit Risk (one sign-off), registered by Carol."""
    return RegisteredModelFactory(
        actor=contributor, name="credit-scorer", owner_team=team, risk_tier=RiskTier.MEDIUM
    )


@pytest.fixture
def draft(scorer, contributor):
    return ModelVersionFactory(actor=contributor, registered_model=scorer)


@pytest.fixture
def submitted(scorer, contributor):
    version = ModelVersionFactory(actor=contributor, registered_model=scorer)
    act(contributor, version, Action.SUBMIT)
    return version


@pytest.fixture
def validated(scorer, contributor, validator):
    version = ModelVersionFactory(actor=contributor, registered_model=scorer)
    act(contributor, version, Action.SUBMIT)
    act(validator, version, Action.CLAIM, "Taking this one.")
    act(validator, version, Action.SIGN_OFF, "Metrics reproduce; signing off.")
    approval_sections_write(version)  # the model card's sections, owed before approval
    return version


def inbox_versions(client, user) -> list[str]:
    client.force_login(user)
    response = client.get(reverse("governance:inbox"))
    assert response.status_code == 200
    return [
        f"{row.version.registered_model.name}/{row.version.version}"
        for row in response.context["awaiting_rows"]
    ]


# --- Inbox ----------------------------------------------------------------------------------


def test_it_shows_each_persona_what_waits_for_them(
    client, draft, submitted, validated, contributor, validator, manager, outsider, auditor
):
    assert inbox_versions(client, contributor) == [draft.natural_key]
    assert inbox_versions(client, validator) == [submitted.natural_key]
    assert inbox_versions(client, manager) == [validated.natural_key]
    assert inbox_versions(client, outsider) == []
    assert inbox_versions(client, auditor) == []


def test_the_inbox_links_each_action_to_the_review_section(client, submitted, validator):
    client.force_login(validator)
    html = client.get(reverse("governance:inbox")).content.decode()

    assert f'href="{page_url(submitted)}#review"' in html
    assert "Claim for validation" in html
    assert 'data-testid="inbox-badge"' in html  # the header counts it too


def test_an_empty_inbox_says_so(client, outsider):
    client.force_login(outsider)
    response = client.get(reverse("governance:inbox"))

    assert b"Nothing waits for you" in response.content
    assert b'data-testid="inbox-badge"' not in response.content


def test_the_inbox_needs_a_login(client):
    response = client.get(reverse("governance:inbox"))
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- The review section of the version page -------------------------------------------------


def test_the_version_page_shows_guards_options_timeline_and_notes(
    client, validated, contributor, validator, manager
):
    annotation_create(
        actor=validator, target=validated, kind=AnnotationKind.QUESTION, body="Which **cut-off**?"
    )
    client.force_login(manager)
    response = client.get(page_url(validated))
    html = response.content.decode()

    assert response.status_code == 200
    assert 'data-testid="review-panel"' in html
    assert "1 of 1" in html  # sign-offs
    assert 'data-guard="enough_sign_offs" data-passed="true"' in html
    assert 'data-guard="validation_current" data-passed="true"' in html
    assert 'name="action" value="approve"' in html  # its own button
    assert 'data-action="approve" data-tone="go"' in html
    # The timeline: who, what, and why, in order.
    actions = [d.action for d in response.context["panels"][0].context["decisions"]]
    assert actions == [Action.SUBMIT, Action.CLAIM, Action.SIGN_OFF]
    assert "Metrics reproduce; signing off." in html
    assert "<strong>cut-off</strong>" in html  # Markdown rendered
    assert 'data-testid="annotation-resolve"' in html


def test_blocked_options_are_shown_with_their_reasons(
    client, scorer, contributor, validator, manager
):
    version = ModelVersionFactory(actor=contributor, registered_model=scorer)
    act(contributor, version, Action.SUBMIT)
    act(validator, version, Action.CLAIM)
    annotation_create(actor=validator, target=version, kind=AnnotationKind.FINDING, body="Leak!")
    act(validator, version, Action.SIGN_OFF)
    client.force_login(manager)

    html = client.get(page_url(version)).content.decode()

    assert 'value="approve"' not in html  # no button for a blocked decision
    assert '<li data-action="approve"><strong>Approve for production</strong>' in html
    assert "1 open finding(s) to resolve." in html


def test_an_overdue_revalidation_is_flagged(client, validated, manager):
    Decision.objects.filter(to_state=S.VALIDATED).update(
        created_at=timezone.now() - timedelta(days=400)
    )
    client.force_login(manager)

    html = client.get(page_url(validated)).content.decode()

    assert 'data-testid="revalidation-overdue"' in html
    assert "Revalidation overdue." in html


def test_an_auditor_reads_the_review_but_has_no_form(client, validated, auditor):
    client.force_login(auditor)
    html = client.get(page_url(validated)).content.decode()

    assert 'data-testid="no-decision"' in html
    assert 'data-testid="decision-form"' not in html
    assert 'data-testid="annotation-form"' not in html
    assert "Metrics reproduce; signing off." in html


# --- Deciding -------------------------------------------------------------------------------


def test_a_decision_posted_from_the_page_is_recorded(client, draft, contributor):
    client.force_login(contributor)
    response = client.post(
        decide_url(draft), {"action": "submit", "motivation": "Ready: metrics and lineage in."}
    )

    assert response.status_code == 302 and response["Location"] == page_url(draft)
    draft.refresh_from_db()
    assert draft.status == S.SUBMITTED
    decision = draft.decisions.get()
    assert (decision.actor, decision.motivation) == (contributor, "Ready: metrics and lineage in.")
    page = client.get(response["Location"]).content.decode()
    assert "Submit for validation recorded" in page


def test_a_decision_without_a_motivation_is_refused_and_changes_nothing(client, draft, contributor):
    client.force_login(contributor)
    response = client.post(decide_url(draft), {"action": "submit", "motivation": "  "})

    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="decision-error"' in html
    assert "Every decision needs a written motivation" in html
    draft.refresh_from_db()
    assert draft.status == S.DRAFT
    assert not Decision.objects.exists()


def test_an_illegal_decision_is_a_conflict(client, draft, manager):
    client.force_login(manager)
    response = client.post(decide_url(draft), {"action": "approve", "motivation": WHY})

    assert response.status_code == 409
    html = response.content.decode()
    assert "Not possible now." in html
    assert "cannot take &#x27;approve&#x27;" in html
    draft.refresh_from_db()
    assert draft.status == S.DRAFT


def test_what_was_typed_is_kept_when_a_decision_is_refused(client, validated, validator, manager):
    annotation_create(actor=validator, target=validated, kind="finding", body="Leakage?")
    client.force_login(manager)
    response = client.post(
        decide_url(validated), {"action": "approve", "motivation": "Approving <b>now</b> please."}
    )

    assert response.status_code == 409
    html = response.content.decode()
    assert "Approve is blocked: No open findings: 1 open finding(s) to resolve." in html
    assert "Approving &lt;b&gt;now&lt;/b&gt; please.</textarea>" in html  # kept, and escaped
    validated.refresh_from_db()
    assert validated.status == S.VALIDATED


def test_a_validator_trying_to_submit_is_told_why_not(client, draft, validator):
    client.force_login(validator)
    response = client.post(decide_url(draft), {"action": "submit", "motivation": WHY})

    assert response.status_code == 403
    html = response.content.decode()
    assert "Not yours to decide." in html
    assert "You may not submit" in html
    draft.refresh_from_db()
    assert draft.status == S.DRAFT


def test_separation_of_duties_is_explained(client, scorer, contributor, teammate):
    """Tom submits Carol's version and, also being a validator, tries to claim it."""
    from accounts.choices import RoleName
    from accounts.services import role_assign

    role_assign(user=teammate, role=RoleName.VALIDATOR)
    version = ModelVersionFactory(actor=contributor, registered_model=scorer)
    act(teammate, version, Action.SUBMIT)
    client.force_login(teammate)

    response = client.post(decide_url(version), {"action": "claim", "motivation": WHY})

    assert response.status_code == 403
    assert "You submitted this version" in response.content.decode()


def test_an_outsider_cannot_see_or_decide(client, draft, outsider):
    client.force_login(outsider)

    assert client.get(page_url(draft)).status_code == 404
    response = client.post(decide_url(draft), {"action": "submit", "motivation": WHY})

    assert response.status_code == 404
    assert 'data-testid="error-page"' in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == S.DRAFT


def test_an_unknown_action_is_a_bad_request(client, draft, contributor):
    client.force_login(contributor)
    response = client.post(decide_url(draft), {"action": "<script>", "motivation": WHY})

    assert response.status_code == 400
    assert "<script>" not in response.content.decode()


def test_deciding_needs_a_post_and_a_login(client, draft, contributor):
    assert client.post(decide_url(draft), {"action": "submit"}).status_code == 302
    client.force_login(contributor)
    assert client.get(decide_url(draft)).status_code == 405


# --- Discussion -----------------------------------------------------------------------------


def test_a_note_a_reply_and_a_resolution_from_the_page(client, submitted, validator, contributor):
    client.force_login(validator)
    response = client.post(
        annotate_url(submitted), {"kind": "finding", "body": "The **test split** overlaps."}
    )
    finding = Annotation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{page_url(submitted)}#annotation-{finding.pk}"
    assert (finding.kind, finding.author) == (AnnotationKind.FINDING, validator)

    client.force_login(contributor)
    client.post(annotate_url(submitted), {"parent": finding.pk, "body": "Fixed in v2."})
    reply = Annotation.objects.exclude(pk=finding.pk).get()
    assert (reply.parent, reply.kind) == (finding, AnnotationKind.NOTE)

    resolve = reverse(
        "governance:version-annotation-resolve",
        args=[submitted.registered_model.name, submitted.version, finding.pk],
    )
    page = client.get(page_url(submitted)).content.decode()
    assert 'data-testid="annotation-resolve"' not in page  # the developer is not offered it
    refused = client.post(resolve, {"motivation": "Fixed in v2, closing it."})
    assert refused.status_code == 403
    finding.refresh_from_db()
    assert finding.is_open

    client.force_login(validator)
    assert client.post(resolve, {"motivation": "x"}).status_code == 400
    assert client.post(resolve, {"motivation": "Checked v2: it is clean."}).status_code == 302
    finding.refresh_from_db()
    assert finding.resolved_by == validator

    html = client.get(page_url(submitted)).content.decode()
    assert "Resolved by" in html
    assert html.index("The <strong>test split</strong> overlaps.") < html.index("Fixed in v2.")


def test_an_empty_note_is_refused_with_its_reason(client, submitted, validator):
    client.force_login(validator)
    response = client.post(annotate_url(submitted), {"kind": "question", "body": " "})

    assert response.status_code == 400
    assert "An annotation needs a body." in response.content.decode()
    assert not Annotation.objects.exists()


def test_resolving_twice_is_a_conflict(client, submitted, validator):
    finding = annotation_create(actor=validator, target=submitted, kind="finding", body="x")
    client.force_login(validator)
    resolve = reverse(
        "governance:version-annotation-resolve",
        args=[submitted.registered_model.name, submitted.version, finding.pk],
    )
    client.post(resolve, {"motivation": "Checked, not an issue."})

    response = client.post(resolve, {"motivation": "Checked, not an issue."})

    assert response.status_code == 409
    assert "already resolved" in response.content.decode()


def test_an_auditor_cannot_post_a_note(client, submitted, auditor):
    client.force_login(auditor)
    response = client.post(annotate_url(submitted), {"kind": "note", "body": "Hello"})

    assert response.status_code == 403
    assert not Annotation.objects.exists()


def test_markup_in_a_note_is_neutralised_on_the_page(client, submitted, validator):
    """Markdown is rendered, but scripts, event handlers and javascript: links never reach
    the page: the body goes through nh3 before it is marked safe."""
    annotation_create(
        actor=validator,
        target=submitted,
        kind=AnnotationKind.NOTE,
        body=(
            "<script>alert('x')</script>\n\n"
            '<img src="x" onerror="alert(1)">\n\n'
            "[click](javascript:alert(2)) and *fine*\n\n"
            '<a href="#" onclick="alert(3)">a</a><style>body{display:none}</style>'
        ),
    )
    client.force_login(validator)
    html = client.get(page_url(submitted)).content.decode()
    body = html[html.index('data-testid="annotation-body-html"') :]
    body = body[: body.index("</div>")]

    assert "<em>fine</em>" in body
    for bad in ("<script", "onerror", "javascript:", "onclick", "<style"):
        assert bad not in body, bad


def test_the_review_section_costs_the_same_queries_however_long_the_discussion(
    client, submitted, validator, django_assert_max_num_queries
):
    """Threads, replies and the timeline are read in a fixed number of queries."""
    client.force_login(validator)
    first = annotation_create(actor=validator, target=submitted, kind="question", body="One?")
    act(validator, submitted, Action.CLAIM)
    with CaptureQueriesContext(connection) as short:
        client.get(page_url(submitted))
    for n in range(6):
        reply = annotation_create(actor=validator, target=submitted, body=f"Re {n}", parent=first)
        annotation_create(actor=validator, target=submitted, kind="finding", body=f"F{n}")
        first = reply

    with django_assert_max_num_queries(len(short)):
        response = client.get(page_url(submitted))
    assert response.content.decode().count('data-testid="annotation"') == 13
