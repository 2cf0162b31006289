"""Insider attacks on generated documentation (issue #12, items 2 and 4).

Each test is the attack as its author would try it, through the API (and the page where it has
a face): the refusal (status and message), that nothing changed, and that a refusal appends
nothing to the audit chain. The allowed path is proven beside it: documents are made as the
version's owning team sees it, whoever asks; a document is served only to who may see every
record it names; a validator's section is written by an independent validator and shows who
wrote it; people's words never pass for Steward's governance record."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from accounts.choices import RoleName
from accounts.services import role_assign, token_create
from core.models import AuditEvent
from governance.choices import Action, DocumentStatus
from governance.models import FreeTextSection, GeneratedDocument
from governance.services import version_transition
from governance.services.annotations import annotation_create
from governance.services.documents import document_request
from registry.models import RegisteredModel
from tests.factories import (
    DatasetFactory,
    DatasetVersionFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    RunFactory,
)

pytestmark = pytest.mark.django_db

VERSION_API = "/api/v1/models/credit-model/versions/1/"
VERSION_PAGE = "/models/credit-model/versions/1/"
SECRETS = ("marketing-leads", "lookalike-training", "household_income")
WHY = "Evidence reviewed; the evaluation was reproduced."
ASSESSMENT = "Design is sound; the data is fit for purpose; monotonic constraints are justified."
FORGED = (
    "Gradient-boosted trees.\n\n## Governance record\n\n"
    "- 2025-01-01 · **Approve for production** by max (validated → approved): Approved.\n"
    "<h2>Approved by the model risk committee</h2>"
)


def client_for(user=None, *, secret: str | None = None) -> APIClient:
    client = APIClient()
    if secret is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        client.get("/api/v1/me/")  # a token's first use of the day is recorded; not the attack
    elif user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def marketing(other_team):
    """Marketing's private records: a leads dataset and the run trained on it."""
    leads = DatasetVersionFactory(
        dataset=DatasetFactory(name="marketing-leads", owner_team=other_team),
        schema={"columns": [{"name": "household_income"}]},
    )
    run = RunFactory(team=other_team, name="lookalike-training", inputs=[(leads, "train")])
    return leads, run


def _mixed_version(owner, marketing, credit_team):
    """credit-model v1, trained (by a superuser) on Marketing's leads and Credit Risk's loans."""
    leads, run = marketing
    loans = DatasetVersionFactory(dataset=DatasetFactory(name="loans", owner_team=credit_team))
    model = RegisteredModelFactory(name="credit-model", owner_team=owner)
    return ModelVersionFactory(
        registered_model=model, run=run, datasets=[(loans, "train"), (leads, "train")]
    )


@pytest.fixture
def mixed_version(team, marketing):
    return _mixed_version(team, marketing, team)


def _generate(capture, **kwargs) -> GeneratedDocument:
    with capture(execute=True):
        document = document_request(**kwargs)
    document.refresh_from_db()
    assert document.status == DocumentStatus.DONE, document.error
    return document


def _events() -> int:
    return AuditEvent.objects.count()


# --- item 4: documents leak other teams' records ----------------------------------------------


def test_it_renders_an_administrators_document_as_the_owning_team_sees_it(
    mixed_version, administrator, contributor, team, django_capture_on_commit_callbacks
):
    """Ada (who sees everything) asks for the model card of a Credit Risk version trained on
    Marketing's data: the document names none of Marketing's records, so carol may read it."""
    with django_capture_on_commit_callbacks(execute=True):
        created = client_for(administrator).post(
            f"{VERSION_API}documents/", {"template": "model-card"}, format="json"
        )
    assert created.status_code == 202, created.content
    document = GeneratedDocument.objects.get(pk=created.json()["id"])
    assert document.status == DocumentStatus.DONE, document.error
    for secret in SECRETS:
        assert secret not in document.markdown and secret not in str(document.inputs)
    assert "A dataset of another team" in document.markdown and "loans" in document.markdown
    model_id = mixed_version.registered_model_id
    assert document.references == [[team.pk, None], [team.pk, model_id]]

    carol = client_for(contributor)
    listed = carol.get(f"{VERSION_API}documents/").json()["results"]
    assert [(d["id"], d["readable"]) for d in listed] == [(document.pk, True)]
    download = carol.get(f"{VERSION_API}documents/{document.pk}/download/?format=md")
    assert download.status_code == 200
    assert "loans" in download.content.decode()


def test_a_global_validators_decision_regenerates_documents_without_other_teams_records(
    mixed_version, contributor, validator, django_capture_on_commit_callbacks
):
    """Vera's claim (a global validator, who may see Marketing's records) regenerates the
    model card: it is still made as Credit Risk sees the version."""
    with django_capture_on_commit_callbacks(execute=True):
        version_transition(
            actor=contributor, version=mixed_version, action=Action.SUBMIT, motivation=WHY
        )
    with django_capture_on_commit_callbacks(execute=True):
        version_transition(
            actor=validator, version=mixed_version, action=Action.CLAIM, motivation=WHY
        )
    documents = GeneratedDocument.objects.filter(version=mixed_version)
    assert validator in {d.requested_by for d in documents}
    for document in documents:
        assert document.status == DocumentStatus.DONE
        assert not any(secret in document.markdown for secret in SECRETS)


@pytest.fixture
def moved_document(other_team, team, marketing, django_capture_on_commit_callbacks):
    """A model card made while Marketing owned credit-model (it rightly names Marketing's
    leads and run); then the model moved to Credit Risk, so carol may now see the version."""
    version = _mixed_version(other_team, marketing, other_team)
    document = _generate(
        django_capture_on_commit_callbacks,
        actor=version.registered_by,
        version=version,
        template_name="model-card",
    )
    assert "marketing-leads" in document.markdown
    RegisteredModel.objects.filter(pk=version.registered_model_id).update(owner_team=team)
    return document


def test_it_refuses_a_document_that_names_records_the_reader_may_not_see(
    moved_document, contributor, auditor, client
):
    """Carol may see the version now, but not Marketing's leads and run that the earlier
    document names: every face refuses its content (403, with why), appending nothing."""
    pk = moved_document.pk
    carol = client_for(contributor)
    client.force_login(contributor)  # a sign-in is an event of its own; not the attack
    before = _events()
    for fmt in ("pdf", "md", "html"):
        refused = carol.get(f"{VERSION_API}documents/{pk}/download/?format={fmt}")
        assert refused.status_code == 403, fmt
        assert "names records you may not see" in refused.json()["message"]
    assert carol.get(f"{VERSION_API}documents/{pk}/").json()["readable"] is False
    page = client.get(f"/models/credit-model/versions/1/documents/{pk}/md/")
    assert page.status_code == 403 and b"marketing-leads" not in page.content
    version_page = client.get(f"{VERSION_PAGE}?document={pk}")
    assert version_page.status_code == 200
    body = version_page.content.decode()
    assert "names records you may not see" in body
    assert not any(secret in body for secret in SECRETS)
    assert 'data-testid="document-view"' not in body
    assert _events() == before
    # Whoever may see it all still reads it: the auditor.
    readable = client_for(auditor).get(f"{VERSION_API}documents/{pk}/download/?format=md")
    assert readable.status_code == 200 and b"marketing-leads" in readable.content


def test_a_regenerated_document_is_readable_and_names_only_the_owning_teams_records(
    moved_document, contributor, django_capture_on_commit_callbacks
):
    carol = client_for(contributor)
    with django_capture_on_commit_callbacks(execute=True):
        made = carol.post(f"{VERSION_API}documents/", {"template": "model-card"}, format="json")
    assert made.status_code == 202 and made.json()["id"] != moved_document.pk
    download = carol.get(f"{VERSION_API}documents/{made.json()['id']}/download/?format=md")
    assert download.status_code == 200
    assert not any(secret in download.content.decode() for secret in SECRETS)


def test_a_document_from_before_references_were_kept_is_only_for_those_who_see_everything(
    mixed_version, contributor, auditor, django_capture_on_commit_callbacks
):
    """An old row (references unknown) may have been rendered with an administrator's view."""
    document = _generate(
        django_capture_on_commit_callbacks,
        actor=contributor,
        version=mixed_version,
        template_name="model-card",
    )
    GeneratedDocument.objects.filter(pk=document.pk).update(references=None)
    url = f"{VERSION_API}documents/{document.pk}/download/?format=md"
    assert client_for(contributor).get(url).status_code == 403
    assert client_for(auditor).get(url).status_code == 200


def test_an_outsider_cannot_reach_the_document_at_all(
    mixed_version, outsider, administrator, django_capture_on_commit_callbacks, client
):
    document = _generate(
        django_capture_on_commit_callbacks,
        actor=administrator,
        version=mixed_version,
        template_name="model-card",
    )
    otto = client_for(outsider)
    client.force_login(outsider)
    before = _events()
    assert otto.get(f"{VERSION_API}documents/").status_code == 404
    assert otto.get(f"{VERSION_API}documents/{document.pk}/").status_code == 404
    assert otto.get(f"{VERSION_API}documents/{document.pk}/download/?format=pdf").status_code == 404
    page = client.get(f"/models/credit-model/versions/1/documents/{document.pk}/pdf/")
    assert page.status_code == 404
    assert _events() == before


# --- item 2: free-text sections written by the role they name ---------------------------------


@pytest.fixture
def carols_version(team, contributor):
    """credit-model v1, registered by carol herself."""
    model = RegisteredModelFactory(name="credit-model", owner_team=team)
    return ModelVersionFactory(actor=contributor, registered_model=model, description=FORGED)


def _section_url(template: str, section: str) -> str:
    return f"{VERSION_API}free-text/{template}/{section}/"


ASSESSMENT_URL = _section_url("sr-11-7-validation", "validator_assessment")


def test_a_contributor_cannot_write_the_validators_assessment(carols_version, contributor, client):
    before = _events()
    refused = client_for(contributor).put(ASSESSMENT_URL, {"text": ASSESSMENT}, format="json")
    assert refused.status_code == 403
    assert "independent validator" in refused.json()["message"]
    assert _events() == before
    # Not with a token carrying every scope either.
    _, secret = token_create(
        actor=contributor, name="ci", scopes=["read", "write", "validate", "annotate"]
    )
    with_token = client_for(secret=secret)
    client.force_login(contributor)  # a sign-in is an event of its own; not the attack
    before = _events()
    assert with_token.put(ASSESSMENT_URL, {"text": ASSESSMENT}, format="json").status_code == 403
    # Nor through the page's form.
    page = client.post(
        "/models/credit-model/versions/1/documents/free-text/",
        {"template": "sr-11-7-validation", "section": "validator_assessment", "text": ASSESSMENT},
    )
    assert page.status_code == 403
    assert not FreeTextSection.objects.exists()
    assert _events() == before


def test_a_developer_who_is_also_a_validator_cannot_assess_her_own_version(
    carols_version, contributor
):
    role_assign(user=contributor, role=RoleName.VALIDATOR)
    before = _events()
    refused = client_for(contributor).put(ASSESSMENT_URL, {"text": ASSESSMENT}, format="json")
    assert refused.status_code == 403
    assert "registered or submitted" in refused.json()["message"]
    assert not FreeTextSection.objects.exists() and _events() == before


def test_a_contributor_cannot_write_the_managers_declaration(carols_version, contributor):
    url = _section_url("eu-ai-act-annex-iv", "declaration")
    refused = client_for(contributor).put(url, {"text": "Declared conformant."}, format="json")
    assert refused.status_code == 403 and not FreeTextSection.objects.exists()


def test_a_validators_token_needs_the_validate_scope(carols_version, validator):
    _, secret = token_create(actor=validator, name="notes", scopes=["read", "write"])
    with_token = client_for(secret=secret)
    before = _events()
    refused = with_token.put(ASSESSMENT_URL, {"text": ASSESSMENT}, format="json")
    assert refused.status_code == 403 and "'validate' scope" in refused.json()["message"]
    assert not FreeTextSection.objects.exists() and _events() == before


def test_the_validator_writes_the_assessment_and_the_report_shows_who_wrote_it(
    carols_version, validator, django_capture_on_commit_callbacks
):
    written = client_for(validator).put(ASSESSMENT_URL, {"text": ASSESSMENT}, format="json")
    assert written.status_code == 200, written.content
    assert written.json()["written_by"] == "vera" and written.json()["writer"] == "validator"
    row = FreeTextSection.objects.get()
    assert row.written_by == validator and row.text == ASSESSMENT
    event = AuditEvent.objects.filter(action="document.free_text_write").get()
    assert event.actor == validator and event.data["writer"] == "validator"
    assert event.data["section"] == "validator_assessment" and len(event.data["text_sha256"]) == 64
    report = _generate(
        django_capture_on_commit_callbacks,
        actor=validator,
        version=carols_version,
        template_name="sr-11-7-validation",
    )
    author = r"Written by vera \(validator\) on \d{4}-\d\d-\d\d \d\d:\d\d UTC"
    assert re.search(author, report.markdown)
    assert ASSESSMENT in report.markdown


# --- item 2: the description cannot forge a governance record ---------------------------------


def test_a_forged_governance_heading_in_the_description_stays_the_developers_words(
    carols_version, contributor, django_capture_on_commit_callbacks
):
    """Carol's description (and her intended-use text, and a note) carry a "Governance record"
    heading, an approval by max and raw HTML: the model card has one Governance record, from
    the decision rows (none yet), and her words sit in quotations marked as hers."""
    client_for(contributor).put(
        _section_url("model-card", "intended_use"),
        {"text": "Pre-screening.\n\n# Governance record\n\n---\nApproved by max."},
        format="json",
    )
    annotation_create(
        actor=contributor,
        target=carols_version,
        body="Looks fine.\n- 2025-01-01 Sign off by vera: Signed off.",
    )
    card = _generate(
        django_capture_on_commit_callbacks,
        actor=contributor,
        version=carols_version,
        template_name="model-card",
    )
    html = card.html
    assert len(re.findall(r"<h[1-6][^>]*>[^<]*Governance record", html)) == 1
    assert "<h2>Approved by the model risk committee</h2>" not in html
    assert "&lt;h2&gt;Approved by the model risk committee&lt;/h2&gt;" in html
    governance = html.split("<h2>Governance record</h2>", 1)[1]
    assert "No decisions yet." in governance and "by max" not in governance
    # Her words are there, inside quotations that say whose they are.
    quotes = re.findall(r"<blockquote>.*?</blockquote>", html, flags=re.S)
    description = next(q for q in quotes if "Description of this version, written by its" in q)
    assert "## Governance record" in description and "by max" in description
    intended_use = next(q for q in quotes if "Written by carol (developer)" in q)
    assert "Governance record" in intended_use and "Approved by max." in intended_use
    for quote in quotes:
        assert "<h1" not in quote and "<h2" not in quote and "<hr" not in quote
    report = _generate(
        django_capture_on_commit_callbacks,
        actor=contributor,
        version=carols_version,
        template_name="sr-11-7-validation",
    )
    challenge = report.html.split("Effective challenge</h2>", 1)[1].split("<h2", 1)[0]
    assert challenge.count("<li>") == 1  # her note is one item, not a forged sign-off


def test_a_baseline_from_another_teams_dataset_is_not_named_in_the_documents(
    mixed_version, marketing, administrator, contributor, django_capture_on_commit_callbacks
):
    """Monitoring's part of the context is the owning team's view too: a baseline an
    administrator took from Marketing's leads is described without naming them or their
    columns (setup through the ORM: how the baseline came to be is not the point here)."""
    from monitoring.choices import BaselineSource
    from monitoring.models import BaselineProfile

    leads, _ = marketing
    BaselineProfile.objects.create(
        model_version=mixed_version,
        source=BaselineSource.DATASET_VERSION,
        dataset_version=leads,
        source_label=str(leads),
        content_sha256=leads.content_hash,
        row_count=300,
        inputs={"features": {"household_income": {}}},
        created_by=administrator,
    )
    document = _generate(
        django_capture_on_commit_callbacks,
        actor=administrator,
        version=mixed_version,
        template_name="model-card",
    )
    baseline = document.inputs["monitoring"]["baseline"]
    assert baseline["hidden"] is True and baseline["features"] == []
    assert not any(secret in str(document.inputs) for secret in SECRETS)
    assert not any(secret in document.markdown for secret in SECRETS)
