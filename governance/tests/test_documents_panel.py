"""The documents section of the version page: the newest document of each template with its
state (current, out of date, generating, failed), the earlier ones collapsed under it."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from governance.choices import DocumentStatus
from governance.documents_panel import DocumentState, document_groups, document_rows
from governance.models import GeneratedDocument
from governance.services.documents import document_generate, document_request, free_text_write
from governance.tests import documents_fixtures

doc_version = documents_fixtures.doc_version  # the shared fixture

pytestmark = pytest.mark.django_db


def make(version, actor, template_name="model-card") -> GeneratedDocument:
    """A document requested and rendered now (no commit needed)."""
    document = document_request(actor=actor, version=version, template_name=template_name)
    return document_generate(document.pk)


def write(version, actor, text):
    free_text_write(
        actor=actor,
        version=version,
        template_name="model-card",
        section_key="factors",
        text=text,
    )


def page(client, user, **params) -> str:
    client.force_login(user)
    url = reverse("registry:model-version-detail", args=["credit-model", 1])
    return client.get(url, params).content.decode()


def test_it_groups_documents_per_template_newest_first(doc_version, contributor):
    first = make(doc_version, contributor)
    write(doc_version, contributor, "Age bands.")
    second = make(doc_version, contributor)
    write(doc_version, contributor, "Age bands and regions.")
    third = make(doc_version, contributor)
    report = make(doc_version, contributor, "sr-11-7-validation")

    groups = document_groups(document_rows(doc_version, contributor))

    by_name = {g.template_name: g for g in groups}
    assert set(by_name) == {"model-card", "sr-11-7-validation"}
    card = by_name["model-card"]
    assert card.latest.document == third and card.latest.state == DocumentState.CURRENT
    assert [r.document for r in card.history] == [second, first]
    # History is history: no claim about being current or stale.
    assert not any(r.stale for r in card.history)
    assert by_name["sr-11-7-validation"].latest.document == report


def test_the_newest_document_is_out_of_date_once_its_inputs_change(doc_version, contributor):
    make(doc_version, contributor)
    write(doc_version, contributor, "Age bands.")
    (group,) = document_groups(document_rows(doc_version, contributor))
    assert group.latest.state == DocumentState.OUT_OF_DATE
    assert group.latest.state_label == "out of date"


def test_a_queued_document_is_generating_and_points_at_the_previous_one(doc_version, contributor):
    done = make(doc_version, contributor)
    write(doc_version, contributor, "Age bands.")
    queued = document_request(actor=contributor, version=doc_version, template_name="model-card")
    assert queued.status == DocumentStatus.QUEUED
    (group,) = document_groups(document_rows(doc_version, contributor))
    assert group.latest.document == queued and group.latest.state == DocumentState.GENERATING
    assert group.previous_done.document == done


def test_a_failed_document_says_failed(doc_version, contributor):
    from governance.services.documents import document_fail

    document = document_request(actor=contributor, version=doc_version, template_name="model-card")
    document_fail(document.pk, "Template error: boom")
    (group,) = document_groups(document_rows(doc_version, contributor))
    assert group.latest.state == DocumentState.FAILED


def test_the_page_shows_one_row_per_template_and_the_history_collapsed(
    client, doc_version, contributor
):
    for text in ("Age bands.", "Age bands and regions.", "Regions."):
        make(doc_version, contributor)
        write(doc_version, contributor, text)
    newest = make(doc_version, contributor)

    html = page(client, contributor)

    assert html.count('data-testid="document-row"') == 1
    assert html.count('data-testid="document-history-row"') == 3
    assert re.search(r'<details class="documents-history"[^>]*>\s*<summary>3 earlier', html)
    row = re.search(r'<tr data-testid="document-row"[^>]*>', html).group(0)
    assert 'data-state="current"' in row
    assert f"?document={newest.pk}#documents" in html
    # "done" and "out of date" never side by side: the status badge says the state only.
    assert html.count('data-testid="document-status"') == 1
    assert ">Current</span>" in html


def test_the_document_preview_is_collapsed_unless_asked_for(client, doc_version, contributor):
    document = make(doc_version, contributor)
    html = page(client, contributor)
    assert re.search(r'<details class="document-preview"\s+data-testid', html)
    asked = page(client, contributor, document=document.pk)
    assert re.search(r'<details class="document-preview" open', asked)


def test_the_staleness_of_each_template_is_judged_from_one_read_of_the_record(
    doc_version, contributor
):
    """Only the free-text sections differ between templates: the hash built from one read of
    the record plus a template's sections equals the one built for that template alone."""
    from governance.documents.context import inputs_hash, version_context
    from governance.documents.selectors import StalenessCache

    write(doc_version, contributor, "Age bands.")
    cache = StalenessCache(doc_version)
    for name in ("model-card", "sr-11-7-validation", "eu-ai-act-annex-iv"):
        alone = inputs_hash(version_context(doc_version, template_name=name))
        assert cache.current_hash(name) == alone
    assert cache.current_hash("model-card") != cache.current_hash("sr-11-7-validation")
