"""The version page's evidence summary: metric changes against the version in production, the
data used, the facts governance adds, and the page around it (tabs, one h1)."""

from __future__ import annotations

import re

import pytest

from registry.choices import DatasetRole, VersionStatus
from registry.evidence import (
    metric_delta,
    metric_deltas,
    production_version_of,
    version_evidence_summary,
)
from registry.models import ModelVersion
from registry.views import document_headings_demoted
from tests.factories import (
    DatasetFactory,
    DatasetVersionFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
)


def in_production(version: ModelVersion) -> ModelVersion:
    """Put ``version`` in production without the workflow (test set-up only)."""
    ModelVersion.objects.filter(pk=version.pk).update(status=VersionStatus.PRODUCTION)
    version.refresh_from_db()
    return version


# --- Metric changes (no database) -----------------------------------------------------------


def test_it_judges_a_higher_auc_better_and_a_higher_loss_worse():
    auc = metric_delta("auc", 0.93, 0.91)
    assert (auc.direction, auc.judgement) == ("up", "better")
    assert auc.delta == pytest.approx(0.02)
    loss = metric_delta("val_loss", 0.40, 0.35)
    assert (loss.direction, loss.judgement) == ("up", "worse")
    assert metric_delta("rmse", 1.0, 2.0).judgement == "better"


def test_it_gives_an_arrow_but_no_verdict_for_a_metric_it_does_not_know():
    odd = metric_delta("threshold", 0.6, 0.5)
    assert (odd.direction, odd.judgement) == ("up", "")


def test_it_says_same_added_and_removed_and_never_subtracts_text_or_booleans():
    assert metric_delta("auc", 0.9, 0.9).direction == "same"
    assert metric_delta("auc", 0.9, None).added
    assert metric_delta("auc", None, 0.9).removed
    assert metric_delta("auc", "high", 0.9).delta is None
    assert metric_delta("ok", True, False).delta is None
    assert metric_delta("auc", float("nan"), 0.9).direction == ""


def test_deltas_cover_the_metrics_of_both_sides_by_name():
    rows = metric_deltas({"auc": 0.9, "F1": 0.7}, {"auc": 0.8, "ks": 0.4})
    assert [r.name for r in rows] == ["auc", "F1", "ks"]
    assert rows[2].removed


# --- The version in production --------------------------------------------------------------

pytestmark_db = pytest.mark.django_db


@pytest.fixture
def model(team):
    return RegisteredModelFactory(name="churn", owner_team=team)


@pytestmark_db
def test_the_baseline_is_the_newest_other_version_in_production(model, contributor):
    first = in_production(ModelVersionFactory(registered_model=model, metrics={"auc": 0.80}))
    second = in_production(ModelVersionFactory(registered_model=model, metrics={"auc": 0.85}))
    candidate = ModelVersionFactory(registered_model=model, metrics={"auc": 0.90})
    assert production_version_of(contributor, candidate) == second
    # The serving version is compared with the one it superseded, not with itself.
    assert production_version_of(contributor, second) == first


@pytestmark_db
def test_no_baseline_without_a_version_in_production(model, contributor):
    ModelVersionFactory(registered_model=model)
    candidate = ModelVersionFactory(registered_model=model)
    summary = version_evidence_summary(contributor, candidate)
    assert summary.production is None
    assert all(m.direction == "" for m in summary.metrics)


@pytestmark_db
def test_the_summary_has_the_changes_against_production_and_the_data_by_role(
    model, team, other_team, contributor
):
    in_production(ModelVersionFactory(registered_model=model, metrics={"auc": 0.85, "loss": 0.3}))
    train = DatasetVersionFactory(dataset=DatasetFactory(name="loans", owner_team=team))
    secret = DatasetVersionFactory(dataset=DatasetFactory(name="secret", owner_team=other_team))
    candidate = ModelVersionFactory(
        registered_model=model,
        metrics={"auc": 0.9, "loss": 0.35},
        datasets=[(train, DatasetRole.TRAIN), (secret, DatasetRole.TEST)],
    )
    summary = version_evidence_summary(contributor, candidate)
    by_name = {m.name: m for m in summary.metrics}
    assert (by_name["auc"].direction, by_name["auc"].judgement) == ("up", "better")
    assert (by_name["loss"].direction, by_name["loss"].judgement) == ("up", "worse")
    assert summary.changed_metrics == 2
    assert dict(summary.datasets_by_role)["Training"] == [train]
    # Another team's dataset is counted, never named.
    assert dict(summary.datasets_by_role)["Test"] == []
    assert summary.hidden_datasets == 1
    keys = [fact.key for fact in summary.facts]
    assert keys == ["open-findings", "policy-checks"]


# --- The page -------------------------------------------------------------------------------


@pytestmark_db
def test_the_page_opens_with_the_summary_before_the_review_and_the_details_in_tabs(
    model, contributor, client
):
    in_production(ModelVersionFactory(registered_model=model, metrics={"auc": 0.85}))
    ModelVersionFactory(registered_model=model, metrics={"auc": 0.9})
    client.force_login(contributor)
    html = client.get("/models/churn/versions/2/").content.decode()
    summary = html.index('data-testid="evidence-summary"')
    assert summary < html.index('data-testid="review-panel"') < html.index('id="tab-evidence"')
    assert 'data-testid="compare-with-production"' in html
    assert "/models/churn/compare/?a=1&amp;b=2" in html
    assert 'data-direction="up"' in html and 'data-judgement="better"' in html
    for tab in ("evidence", "schemas", "code", "documents", "audit"):
        assert f'id="tab-{tab}"' in html
    # The documents panel is in its tab, after the tab list, not at the top.
    assert html.index('id="tab-documents"') < html.index('data-testid="documents-panel"')
    assert 'src="/static/js/tabs.js"' in html
    assert len(re.findall(r"<h1\b", html)) == 1


def test_a_rendered_documents_headings_sit_below_the_pages():
    html = document_headings_demoted('<h1 id="x">Model card</h1><h2>Use</h2><H5>a</H5><h6>b</h6>')
    assert str(html) == '<h3 id="x">Model card</h3><h4>Use</h4><h6>a</h6><h6>b</h6>'


@pytestmark_db
def test_another_teams_user_gets_404_on_each_version(model, outsider, client):
    ModelVersionFactory(registered_model=model)
    in_production(ModelVersionFactory(registered_model=model))
    client.force_login(outsider)
    for number in (1, 2):
        response = client.get(f"/models/churn/versions/{number}/")
        assert response.status_code == 404
        assert b"evidence-summary" not in response.content


def test_numbers_read_as_people_write_them():
    from registry.evidence import number_text

    assert [number_text(x) for x in (0.89, 0.8900, 92.7, 1000, 0.0, -0.03)] == [
        "0.89",
        "0.89",
        "92.7",
        "1000",
        "0",
        "-0.03",
    ]
    assert number_text(0.00001234) == "1.234e-05"
    assert number_text(None) == "" and number_text("n/a") == "n/a"
    assert metric_delta("auc", 0.89, 0.86).delta_text == "+0.03"
    assert metric_delta("loss", 0.3, 0.35).delta_text == "-0.05"


@pytestmark_db
def test_the_audit_tab_links_an_auditor_to_the_versions_trail_only(model, auditor, member, client):
    ModelVersionFactory(registered_model=model)
    client.force_login(auditor)
    html = client.get("/models/churn/versions/1/").content.decode()
    assert 'href="/audit/?version=churn/1"' in html
    assert client.get("/audit/?version=churn/1").status_code == 200
    client.force_login(member)
    html = client.get("/models/churn/versions/1/").content.decode()
    assert 'data-testid="audit-trail-link"' not in html
    assert client.get("/audit/?version=churn/1").status_code in (403, 404)


@pytestmark_db
def test_a_refused_documents_form_opens_the_page_on_the_documents_tab(model, contributor, client):
    ModelVersionFactory(registered_model=model)
    client.force_login(contributor)
    assert 'data-initial="evidence"' in client.get("/models/churn/versions/1/").content.decode()
    response = client.post(
        "/models/churn/versions/1/documents/free-text/",
        {"template": "model-card", "section": "no-such-section", "text": "x"},
    )
    assert 400 <= response.status_code < 500
    assert 'data-initial="documents"' in response.content.decode()
    asked = client.get("/models/churn/versions/1/?document=1").content.decode()
    assert 'data-initial="documents"' in asked
