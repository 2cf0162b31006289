"""Who documents are made for and who writes them: the owning team's view, the records a
document names and who may read it, the role each free-text section names, people's words kept
apart from Steward's, and the audit record of template edits and section writes."""

from __future__ import annotations

import json

import pytest
from guardian.shortcuts import assign_perm

from core.errors import Forbidden, InvalidInput
from core.models import AuditEvent
from governance.choices import Action
from governance.documents.context import DocumentView, version_context
from governance.documents.markdown_safety import inline_text, written_block
from governance.documents.render import markdown_render
from governance.documents.sandbox import sections_check
from governance.documents.selectors import document_readable, free_text_status
from governance.documents.shipped import shipped_template_parse, shipped_templates
from governance.models import DocumentTemplate, FreeTextSection, GeneratedDocument
from governance.services import version_transition
from governance.services.documents import document_request, document_template_save, free_text_write
from governance.tests import documents_fixtures
from tests.factories import UserFactory

doc_version = documents_fixtures.doc_version  # the shared fixture

pytestmark = pytest.mark.django_db
WHY = "Evidence reviewed; see the attached notes."


def test_the_shipped_templates_name_the_writer_of_every_free_text_section():
    writers = {(t.name, s["key"]): s.get("writer") for t in shipped_templates() for s in t.sections}
    assert writers[("sr-11-7-validation", "validator_assessment")] == "validator"
    assert writers[("eu-ai-act-annex-iv", "declaration")] == "manager"
    assert writers[("model-card", "intended_use")] == "developer"
    free_text = [s for t in shipped_templates() for s in t.sections if s.get("free_text")]
    assert all(s.get("writer") for s in free_text)
    # The installed (current) versions are the files' (migration 0007).
    current = DocumentTemplate.objects.filter(name="sr-11-7-validation").order_by("-version")[0]
    assert {s["key"]: s.get("writer") for s in current.free_text_sections} == {
        "validator_assessment": "validator",
        "limitations": "validator",
    }


def test_a_template_naming_an_unknown_writer_is_refused():
    section = {"key": "a", "title": "A", "free_text": True, "writer": "contributor"}
    assert "writer must be one of" in sections_check([section])[0]
    parsed = shipped_template_parse(
        "<!-- template: t | T -->\n<!-- section: a | A | free_text: validator -->\nhelp\n"
    )
    assert parsed.sections == [
        {"key": "a", "title": "A", "free_text": True, "writer": "validator", "help": "help"}
    ]


def test_saving_a_template_appends_to_the_audit_chain():
    sections = [{"key": "a", "title": "A", "free_text": True, "writer": "validator"}]
    template = document_template_save(actor=None, name="card", title="Card", sections=sections)
    event = AuditEvent.objects.get(action="document.template_save")
    assert event.data["template"] == "card" and event.data["template_version"] == template.version
    assert (
        event.data["free_text"] == {"a": "validator"} and len(event.data["sections_sha256"]) == 64
    )
    with pytest.raises(InvalidInput):
        document_template_save(
            actor=None, name="card", title="Card", sections=[{"key": "b", "title": "B"}]
        )
    assert AuditEvent.objects.filter(action="document.template_save").count() == 1


def test_the_admin_records_template_edits_and_never_deletes_a_template(client):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    sections = [{"key": "a", "title": "A", "body": "{{ model.name }}"}]
    data = {"name": "card", "title": "Card", "description": "", "is_active": "on"}
    data |= {"sections": json.dumps(sections), "preview_version": ""}
    assert client.post("/admin/governance/documenttemplate/add/", data).status_code == 302
    template = DocumentTemplate.objects.get(name="card")
    event = AuditEvent.objects.get(action="document.template_save")
    assert event.actor == admin and event.data["template_version"] == 1
    delete = f"/admin/governance/documenttemplate/{template.pk}/delete/"
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert DocumentTemplate.objects.filter(pk=template.pk).exists()


def test_the_context_is_the_owning_teams_view_and_notes_the_records_it_names(doc_version, team):
    visible = DocumentView.of_version(doc_version)
    context = version_context(doc_version, template_name="model-card", visible=visible)
    assert context["datasets"][0]["name"] == "loans" and not context["run"]["hidden"]
    model_id = doc_version.registered_model_id
    assert visible.sorted_references() == [[team.pk, None], [team.pk, model_id]]


def test_a_reviewer_granted_one_model_sees_the_document_listed_but_not_its_team_records(
    doc_version, contributor, django_capture_on_commit_callbacks
):
    """A document names the team's dataset and run: a grant on the model alone lets one see
    the version, not those, so the document's content is not theirs to read."""
    reviewer = UserFactory(username="rita")
    assign_perm("registry.view_registeredmodel", reviewer, doc_version.registered_model)
    with django_capture_on_commit_callbacks(execute=True):
        document = document_request(
            actor=contributor, version=doc_version, template_name="model-card"
        )
    document.refresh_from_db()
    assert document_readable(contributor, document)
    assert not document_readable(reviewer, document)
    bare = GeneratedDocument(references=[[doc_version.registered_model.owner_team_id, None]])
    assert not document_readable(reviewer, bare)
    bare.references = [
        [doc_version.registered_model.owner_team_id, doc_version.registered_model_id]
    ]
    assert document_readable(reviewer, bare)


def test_free_text_sections_say_who_writes_them_and_who_wrote_them(
    doc_version, contributor, validator
):
    with pytest.raises(Forbidden, match="independent validator"):
        free_text_write(
            actor=contributor,
            version=doc_version,
            template_name="sr-11-7-validation",
            section_key="validator_assessment",
            text="Sound.",
        )
    with pytest.raises(Forbidden, match="developer of the model"):
        free_text_write(
            actor=validator,
            version=doc_version,
            template_name="model-card",
            section_key="intended_use",
            text="Loans.",
        )
    free_text_write(
        actor=validator,
        version=doc_version,
        template_name="sr-11-7-validation",
        section_key="validator_assessment",
        text="Sound.",
    )
    row = next(s for s in free_text_status(doc_version) if s.key == "validator_assessment")
    assert (row.writer, row.written_by, row.text) == ("validator", "vera", "Sound.")
    assert FreeTextSection.objects.count() == 1


def test_a_submitter_cannot_write_the_validators_section(doc_version, contributor, teammate):
    """Tom submits carol's version; holding the validator role as well does not let him
    assess what he submitted."""
    from accounts.choices import RoleName
    from accounts.services import role_assign

    version_transition(actor=teammate, version=doc_version, action=Action.SUBMIT, motivation=WHY)
    role_assign(user=teammate, role=RoleName.VALIDATOR)
    with pytest.raises(Forbidden, match="registered or submitted"):
        free_text_write(
            actor=teammate,
            version=doc_version,
            template_name="sr-11-7-validation",
            section_key="validator_assessment",
            text="Sound.",
        )


def test_values_cannot_start_markdown_blocks_and_plain_words_are_unchanged():
    assert inline_text("credit-model") == "credit-model"
    assert inline_text("2025-01-01T10:00:00Z") == "2025-01-01T10:00:00Z"
    forged = inline_text("ok\n## Governance record\n- approved | pass\n1. one")
    assert "\n" not in forged
    assert (
        forged == "ok<br />&#35;# Governance record<br />&#45; approved &#124; pass<br />&#49;. one"
    )
    assert inline_text("<b>x</b>") == "&lt;b&gt;x&lt;/b&gt;"


def test_free_text_is_a_quotation_under_its_author_with_headings_demoted():
    block = written_block(
        "# Governance record\nApproved.\n===\n<h2>x</h2>",
        author="carol",
        role="developer",
        at="2025-01-02T10:11:12Z",
    )
    assert block.splitlines()[0] == "> *Written by carol (developer) on 2025-01-02 10:11 UTC:*"
    assert all(line.startswith(">") for line in block.splitlines())
    assert "> **Governance record**" in block and "===" not in block
    assert "&lt;h2&gt;x&lt;/h2&gt;" in block
    text = markdown_render(
        title="T",
        sections=[{"key": "s", "title": "S", "free_text": True, "writer": "validator"}],
        context={"free_text": {"s": {"text": "Fine.", "written_by": "vera", "written_at": ""}}},
    )
    assert "> *Written by vera (validator):*" in text


def test_the_document_list_costs_the_same_queries_for_one_or_many_documents(
    doc_version, contributor, django_capture_on_commit_callbacks
):
    """Readability is judged per document from one view of the reader (no query each)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(contributor)
    url = f"/api/v1/models/credit-model/versions/{doc_version.version}/documents/"

    def listed() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    def model_card(intended_use: str) -> None:
        free_text_write(
            actor=contributor,
            version=doc_version,
            template_name="model-card",
            section_key="intended_use",
            text=intended_use,
        )
        with django_capture_on_commit_callbacks(execute=True):
            document_request(actor=contributor, version=doc_version, template_name="model-card")

    model_card("Loans.")
    one = listed()
    model_card("Consumer loans.")
    model_card("Consumer loans in the EU.")
    GeneratedDocument.objects.update(references=[[0, None]])  # none readable: worst case
    assert GeneratedDocument.objects.count() == 3
    assert listed() == one
