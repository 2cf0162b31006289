"""The documentation faces: the API (list, request, status, files, free text) and the
documents section of the version page."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from governance.choices import DocumentStatus
from governance.models import FreeTextSection, GeneratedDocument
from governance.tests import documents_fixtures
from governance.tests.documents_fixtures import pdf_text

doc_version = documents_fixtures.doc_version  # the shared fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(contributor):
    client = APIClient()
    client.force_authenticate(contributor)
    return client


def docs_url(version, suffix=""):
    model = version.registered_model.name
    return f"/api/v1/models/{model}/versions/{version.version}/documents/{suffix}"


def test_it_requests_lists_and_downloads_a_model_card(
    api, doc_version, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(docs_url(doc_version), {"template": "model-card"}, format="json")
    assert created.status_code == 202, created.content
    listed = api.get(docs_url(doc_version)).json()["results"]
    assert [(d["template"], d["status"], d["stale"]) for d in listed] == [
        ("model-card", "done", False)
    ]
    pk = listed[0]["id"]
    assert api.get(docs_url(doc_version, f"{pk}/")).json()["template_version"] == 1
    pdf = api.get(docs_url(doc_version, f"{pk}/download/?format=pdf"))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["X-Content-Type-Options"] == "nosniff"
    assert pdf["Content-Disposition"].startswith("attachment;")
    body = b"".join(pdf.streaming_content)
    assert "credit-model" in pdf_text(body)
    markdown = api.get(docs_url(doc_version, f"{pk}/download/?format=md"))
    assert markdown.status_code == 200 and b"# Model Card" in markdown.content
    again = api.post(docs_url(doc_version), {"template": "model-card"}, format="json")
    assert again.status_code == 200 and again.json()["id"] == pk


def test_a_document_that_is_not_done_cannot_be_downloaded(api, doc_version):
    created = api.post(docs_url(doc_version), {"template": "model-card"}, format="json").json()
    assert created["status"] == "queued"
    response = api.get(docs_url(doc_version, f"{created['id']}/download/?format=pdf"))
    assert response.status_code == 409
    bad = api.get(docs_url(doc_version, f"{created['id']}/download/?format=exe"))
    assert bad.status_code in (400, 409)


def test_an_unknown_template_is_a_404_and_bad_input_a_400(api, doc_version):
    assert api.post(docs_url(doc_version), {"template": "nope"}, format="json").status_code == 404
    assert api.post(docs_url(doc_version), {}, format="json").status_code == 400


def test_free_text_is_written_and_no_longer_missing(api, doc_version):
    base = "/api/v1/models/credit-model/versions/1/free-text/"
    before = {(s["template"], s["section"]): s["missing"] for s in api.get(base).json()}
    assert before[("model-card", "intended_use")] is True
    response = api.put(
        f"{base}model-card/intended_use/", {"text": "Loan pre-screening."}, format="json"
    )
    assert response.status_code == 200 and response.json()["missing"] is False
    assert api.put(f"{base}model-card/metrics/", {"text": "x"}, format="json").status_code == 400
    assert (
        api.put(f"{base}model-card/intended_use/", {"text": " "}, format="json").status_code == 400
    )


def test_the_version_page_shows_documents_and_missing_sections(
    client, contributor, doc_version, django_capture_on_commit_callbacks
):
    client.force_login(contributor)
    page_url = reverse("registry:model-version-detail", args=["credit-model", 1])
    page = client.get(page_url)
    assert b'data-testid="documents-panel"' in page.content
    assert b'data-testid="documents-empty"' in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("governance:version-document-request", args=["credit-model", 1]),
            {"template": "model-card"},
        )
    assert response.status_code == 302
    page = client.get(page_url).content.decode()
    assert 'data-status="done"' in page and 'data-testid="document-view"' in page
    assert 'data-key="intended_use" data-missing="true"' in page
    document = GeneratedDocument.objects.get()
    pdf = client.get(
        reverse(
            "governance:version-document-download", args=["credit-model", 1, document.pk, "pdf"]
        )
    )
    assert pdf.status_code == 200 and pdf["X-Content-Type-Options"] == "nosniff"
    saved = client.post(
        reverse("governance:version-free-text", args=["credit-model", 1]),
        {"template": "model-card", "section": "intended_use", "text": "Loan pre-screening."},
    )
    assert saved.status_code == 302 and FreeTextSection.objects.count() == 1
    page = client.get(page_url).content.decode()
    assert 'data-key="intended_use" data-missing="false"' in page
    # The free text changed the inputs: the document is out of date and can be regenerated.
    assert 'data-testid="document-stale"' in page and 'data-testid="document-regenerate"' in page
    assert document.status == DocumentStatus.DONE


def test_a_refused_free_text_shows_the_page_again_with_the_error(client, contributor, doc_version):
    client.force_login(contributor)
    response = client.post(
        reverse("governance:version-free-text", args=["credit-model", 1]),
        {"template": "model-card", "section": "intended_use", "text": ""},
    )
    assert response.status_code == 400 and b"Write the section." in response.content


def test_an_outsider_gets_404_for_the_page_forms_and_files(client, outsider, doc_version):
    client.force_login(outsider)
    response = client.post(
        reverse("governance:version-document-request", args=["credit-model", 1]),
        {"template": "model-card"},
    )
    assert response.status_code == 404
    response = client.get(
        reverse("governance:version-document-download", args=["credit-model", 1, 1, "pdf"])
    )
    assert response.status_code == 404


def test_the_list_costs_the_same_queries_for_one_document_or_many(
    api, contributor, doc_version, django_capture_on_commit_callbacks
):
    """Staleness is computed once per template and requester, not once per document."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from governance.services.documents import document_request, free_text_write

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(docs_url(doc_version)).status_code == 200
        return len(captured)

    with django_capture_on_commit_callbacks(execute=True):
        document_request(actor=contributor, version=doc_version, template_name="model-card")
    queries()  # the first request also loads the user's access
    one = queries()
    for n in range(3):
        free_text_write(
            actor=contributor,
            version=doc_version,
            template_name="model-card",
            section_key="factors",
            text=f"Factors, take {n}.",
        )
        with django_capture_on_commit_callbacks(execute=True):
            document_request(actor=contributor, version=doc_version, template_name="model-card")
    assert GeneratedDocument.objects.filter(status="done").count() == 4
    assert queries() == one
