"""Documentation in eager mode (tasks run in-process when the transaction commits): templates,
the context, rendering to Markdown/HTML/PDF, idempotency, staleness, template errors, the
required-documents guard and the automatic regeneration after decisions."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from core.errors import Forbidden, InvalidInput
from core.models import AuditEvent
from governance.choices import Action, DocumentStatus
from governance.documents.context import inputs_hash, version_context
from governance.documents.selectors import StalenessCache, documents_required_check
from governance.documents.shipped import shipped_templates
from governance.models import DocumentTemplate, GeneratedDocument, Policy
from governance.services import version_transition
from governance.services.documents import (
    document_request,
    document_template_save,
    free_text_write,
    pdf_file,
)
from governance.tests import documents_fixtures
from governance.tests.documents_fixtures import pdf_text

doc_version = documents_fixtures.doc_version  # the shared fixture

pytestmark = pytest.mark.django_db
WHY = "Evidence reviewed; see the attached notes."


def generate(capture, **kwargs) -> GeneratedDocument:
    with capture(execute=True):
        document = document_request(**kwargs)
    document.refresh_from_db()
    return document


def test_it_installs_the_three_shipped_templates_by_migration():
    names = set(DocumentTemplate.objects.values_list("name", flat=True))
    assert {"model-card", "eu-ai-act-annex-iv", "sr-11-7-validation"} <= names
    annex = DocumentTemplate.objects.get(name="eu-ai-act-annex-iv")
    assert sum(1 for s in annex.sections if s["title"][0].isdigit()) >= 9


def test_shipped_templates_use_no_unknown_variable(doc_version, contributor):
    """Rendered strictly against a real version, no section names a variable the context
    lacks (a typo in a shipped template would otherwise silently render as nothing)."""
    from governance.documents.render import markdown_preview

    for shipped in shipped_templates():
        context = version_context(doc_version, template_name=shipped.name)
        _, unknown = markdown_preview(sections=shipped.sections, context=context)
        assert unknown == [], shipped.name


def test_it_renders_a_model_card_to_markdown_html_and_a_real_pdf(
    doc_version, contributor, django_capture_on_commit_callbacks
):
    document = generate(
        django_capture_on_commit_callbacks,
        actor=contributor,
        version=doc_version,
        template_name="model-card",
    )
    assert document.status == DocumentStatus.DONE, document.error
    assert "credit-model" in document.markdown and "| auc | 0.913 |" in document.markdown
    assert "<table>" in document.html and "<script" not in document.html
    pdf = pdf_file(document).read_bytes()
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "credit-model" in text and "0.913" in text
    import hashlib

    assert hashlib.sha256(pdf).hexdigest() == document.pdf_sha256
    assert hashlib.sha256(document.markdown.encode()).hexdigest() == document.markdown_sha256
    assert document.template.version == 1 and document.requested_by == contributor
    events = AuditEvent.objects.filter(
        scope_version="credit-model/1", action__startswith="document."
    ).order_by("sequence")
    assert list(events.values_list("action", flat=True)) == [
        "document.request",
        "document.generate",
    ]
    generated = events.get(action="document.generate")
    assert generated.actor == contributor and generated.data["template_version"] == 1


def test_the_same_inputs_give_the_same_document_not_a_duplicate(
    doc_version, contributor, django_capture_on_commit_callbacks
):
    first = generate(
        django_capture_on_commit_callbacks,
        actor=contributor,
        version=doc_version,
        template_name="model-card",
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = document_request(actor=contributor, version=doc_version, template_name="model-card")
    assert again.pk == first.pk and callbacks == []
    assert GeneratedDocument.objects.count() == 1


def test_a_redelivered_task_for_a_done_document_changes_nothing(
    doc_version, contributor, django_capture_on_commit_callbacks
):
    from governance.tasks import generate_document

    document = generate(
        django_capture_on_commit_callbacks,
        actor=contributor,
        version=doc_version,
        template_name="model-card",
    )
    before = (document.finished_at, document.attempts)
    generate_document.delay(document.pk)
    document.refresh_from_db()
    assert (document.finished_at, document.attempts) == before
    assert AuditEvent.objects.filter(action="document.generate").count() == 1


def test_a_document_goes_stale_when_the_version_record_changes_and_earlier_ones_are_kept(
    doc_version, contributor, django_capture_on_commit_callbacks
):
    first = generate(
        django_capture_on_commit_callbacks,
        actor=contributor,
        version=doc_version,
        template_name="model-card",
    )
    assert not StalenessCache(doc_version).is_stale(first)
    free_text_write(
        actor=contributor,
        version=doc_version,
        template_name="model-card",
        section_key="intended_use",
        text="Pre-screening of consumer loan applications.",
    )
    assert StalenessCache(doc_version).is_stale(first)
    second = generate(
        django_capture_on_commit_callbacks,
        actor=contributor,
        version=doc_version,
        template_name="model-card",
    )
    assert second.pk != first.pk and "Pre-screening of consumer loan" in second.markdown
    assert not StalenessCache(doc_version).is_stale(second)
    assert GeneratedDocument.objects.filter(version=doc_version).count() == 2


def test_missing_free_text_is_shown_as_missing(
    doc_version, contributor, django_capture_on_commit_callbacks
):
    document = generate(
        django_capture_on_commit_callbacks,
        actor=contributor,
        version=doc_version,
        template_name="model-card",
    )
    assert "Not written yet" in document.markdown


def test_a_template_that_does_not_compile_fails_the_document_with_its_message(
    doc_version, contributor, django_capture_on_commit_callbacks
):
    """A template stored without validation (here straight through the ORM) fails its
    document with the error; nothing crashes and nothing is retried."""
    DocumentTemplate.objects.create(
        name="broken", title="Broken", sections=[{"key": "a", "title": "A", "body": "{% if %}"}]
    )
    document = generate(
        django_capture_on_commit_callbacks,
        actor=contributor,
        version=doc_version,
        template_name="broken",
    )
    assert document.status == DocumentStatus.FAILED
    assert "Template error" in document.error and document.attempts == 1
    assert AuditEvent.objects.filter(action="document.fail").count() == 1


def test_saving_a_template_with_bad_syntax_is_refused_with_the_error():
    with pytest.raises(InvalidInput) as refused:
        document_template_save(
            actor=None,
            name="card",
            title="Card",
            sections=[{"key": "a", "title": "A", "body": "{% for %}"}],
        )
    assert "template error" in refused.value.field_errors["sections"][0]
    template = DocumentTemplate(
        name="x", title="X", sections=[{"key": "a", "title": "A", "body": "{% include 'x' %}"}]
    )
    with pytest.raises(ValidationError):
        template.clean()


def test_editing_a_template_adds_a_version_and_new_documents_use_it(
    doc_version, contributor, django_capture_on_commit_callbacks
):
    old = DocumentTemplate.objects.get(name="model-card")
    new = document_template_save(
        actor=None,
        name="model-card",
        title=old.title,
        sections=[
            *old.sections,
            {"key": "extra", "title": "Extra", "body": "AUC {{ version.metrics.auc }}"},
        ],
    )
    assert new.version == old.version + 1
    document = generate(
        django_capture_on_commit_callbacks,
        actor=contributor,
        version=doc_version,
        template_name="model-card",
    )
    assert document.template == new and "AUC 0.913" in document.markdown


def test_the_sandbox_refuses_file_and_tag_library_access():
    from governance.documents.sandbox import sections_check

    for body in [
        "{% include '/etc/passwd' %}",
        "{% load static %}",
        "{% debug %}",
        "{% extends 'x' %}",
    ]:
        assert sections_check([{"key": "a", "title": "A", "body": body}]), body


def test_an_auditor_may_not_request_a_document(doc_version, auditor):
    with pytest.raises(Forbidden):
        document_request(actor=auditor, version=doc_version, template_name="model-card")


def test_lineage_is_shown_as_the_owning_team_sees_it(doc_version):
    context = version_context(doc_version, template_name="model-card")
    assert context["lineage"]["hidden_count"] == 0 and context["lineage"]["node_count"] >= 2
    assert context["datasets"][0]["name"] == "loans"
    assert inputs_hash(context) == inputs_hash(
        version_context(doc_version, template_name="model-card")
    )


def test_required_documents_guard_needs_a_current_document(
    doc_version, contributor, django_capture_on_commit_callbacks
):
    Policy.objects.filter(risk_tier=doc_version.registered_model.risk_tier).update(
        required_documents=["model-card"]
    )
    assert documents_required_check(doc_version, ["model-card"]) == [
        "Model Card has not been generated"
    ]
    with pytest.raises(Exception, match="Required documents"):
        version_transition(
            actor=contributor, version=doc_version, action=Action.SUBMIT, motivation=WHY
        )
    generate(
        django_capture_on_commit_callbacks,
        actor=contributor,
        version=doc_version,
        template_name="model-card",
    )
    assert documents_required_check(doc_version, ["model-card"]) == []
    free_text_write(
        actor=contributor,
        version=doc_version,
        template_name="model-card",
        section_key="factors",
        text="Age bands.",
    )
    assert documents_required_check(doc_version, ["model-card"]) == ["Model Card is out of date"]


def test_submit_and_every_decision_regenerate_the_model_card(
    doc_version, contributor, validator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        version_transition(
            actor=contributor, version=doc_version, action=Action.SUBMIT, motivation=WHY
        )
    with django_capture_on_commit_callbacks(execute=True):
        version_transition(
            actor=validator, version=doc_version, action=Action.CLAIM, motivation=WHY
        )
    documents = list(GeneratedDocument.objects.filter(version=doc_version).order_by("id"))
    assert [d.status for d in documents] == [DocumentStatus.DONE, DocumentStatus.DONE]
    assert [d.requested_by for d in documents] == [contributor, validator]
    assert "in_validation" in documents[1].inputs["version"]["status"]
    assert WHY in documents[1].markdown


def test_later_apps_add_to_the_context_through_a_provider(doc_version, contributor, monkeypatch):
    from governance.documents import context as context_module

    # A copy of the registrations: the real ones (monitoring's) come back after the test.
    monkeypatch.setattr(context_module, "_providers", dict(context_module._providers))
    context_module.document_context_provider_register(
        "extra", lambda version, visible: {"deployments": [{"environment": "prod"}]}
    )
    context = version_context(doc_version, template_name="model-card")
    assert context["extra"] == {"deployments": [{"environment": "prod"}]}
