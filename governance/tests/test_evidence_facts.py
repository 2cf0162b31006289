"""What governance adds to the version page's evidence summary: open findings (blocking or not,
per the policy) and the policy's checks with their verdicts, on the page and without it."""

from __future__ import annotations

import re

import pytest

from governance.choices import AnnotationKind
from governance.evidence_facts import version_evidence_facts
from governance.models import Policy
from governance.services import annotation_create, annotation_resolve
from governance.services.documents import document_request
from governance.tests import documents_fixtures
from registry.choices import RiskTier
from tests.factories import ModelVersionFactory, RegisteredModelFactory

pytestmark = pytest.mark.django_db
doc_version = documents_fixtures.doc_version  # the shared fixture


@pytest.fixture
def version(contributor, team):
    model = RegisteredModelFactory(name="churn", owner_team=team, risk_tier=RiskTier.HIGH)
    return ModelVersionFactory(actor=contributor, registered_model=model, metrics={"auc": 0.91})


def facts(user, version) -> dict:
    return {fact.key: fact for fact in version_evidence_facts(user, version, {})}


def test_it_counts_open_findings_and_says_they_block(version, validator, contributor):
    assert facts(contributor, version)["open-findings"].value == "0"
    finding = annotation_create(
        actor=validator, target=version, kind=AnnotationKind.FINDING, body="Leakage?"
    )
    annotation_create(actor=validator, target=version, kind=AnnotationKind.NOTE, body="A note")
    fact = facts(contributor, version)["open-findings"]
    assert (fact.value, fact.tone) == ("1", "fail")
    assert "block" in fact.detail
    annotation_resolve(actor=validator, annotation=finding, motivation="Checked: no leakage.")
    assert facts(contributor, version)["open-findings"].value == "0"


def test_a_finding_the_policy_lets_pass_is_a_warning(version, validator, contributor):
    Policy.objects.filter(risk_tier="high").update(block_on_open_findings=False)
    annotation_create(actor=validator, target=version, kind=AnnotationKind.FINDING, body="Minor")
    assert facts(contributor, version)["open-findings"].tone == "warn"


def test_the_policy_checks_say_which_pass_and_which_fail(version, contributor):
    Policy.objects.filter(risk_tier="high").update(metric_checks=["auc >= 0.95"])
    fact = facts(contributor, version)["policy-checks"]
    verdicts = {check.label: check.verdict for check in fact.checks}
    assert verdicts["Metric checks"] == "fail"
    assert verdicts["No open findings"] == "pass"
    # Sign-offs still being gathered on a draft are pending, not a failure.
    assert "pending" in verdicts.values()
    assert fact.tone == "fail"
    assert fact.value == f"{sum(v == 'pass' for v in verdicts.values())} of {len(verdicts)} pass"
    metric = next(c for c in fact.checks if c.label == "Metric checks")
    assert "auc = 0.91" in metric.reason


def test_the_page_shows_the_same_checks_as_the_review_section(version, contributor, client):
    Policy.objects.filter(risk_tier="high").update(metric_checks=["auc >= 0.95"])
    client.force_login(contributor)
    html = client.get(f"/models/churn/versions/{version.version}/").content.decode()
    summary = html[html.index('data-testid="evidence-summary"') : html.index('id="review"')]
    assert 'data-fact="policy-checks" data-tone="fail"' in summary
    assert summary.count('data-testid="evidence-check"') == html.count('data-testid="guard"')
    assert 'data-fact="open-findings" data-tone="pass"' in summary


def test_a_generated_model_card_on_the_page_adds_no_second_h1(
    doc_version, contributor, client, django_capture_on_commit_callbacks
):
    """The card's own "# Model card" heading is demoted below the page's headings, and the card
    sits in the Documents tab, not between the review and the evidence."""
    with django_capture_on_commit_callbacks(execute=True):
        document_request(actor=contributor, version=doc_version, template_name="model-card")
    client.force_login(contributor)
    html = client.get(f"/models/credit-model/versions/{doc_version.version}/").content.decode()
    view = html[html.index('data-testid="document-view"') :]
    assert re.search(r"<h[3-6]\b", view[: view.index("</article>")])
    assert len(re.findall(r"<h1\b", html)) == 1
    assert html.index('id="tab-documents"') < html.index('data-testid="document-view"')
