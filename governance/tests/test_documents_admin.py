"""Documentation templates in the admin: every save is a new version, template errors and
unknown variables are form errors, and a preview renders against a chosen version without
saving."""

from __future__ import annotations

import json

import pytest

from governance.models import DocumentTemplate
from governance.tests import documents_fixtures

doc_version = documents_fixtures.doc_version  # the shared fixture

pytestmark = pytest.mark.django_db
ADD_URL = "/admin/governance/documenttemplate/add/"


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(user)
    return client


def post(client, sections, **extra):
    data = {
        "name": "card",
        "title": "Card",
        "description": "",
        "sections": json.dumps(sections),
        "is_active": "on",
        "preview_version": "",
        **extra,
    }
    return client.post(ADD_URL, data)


def test_it_saves_a_new_template_and_a_new_version_on_edit(admin_client):
    sections = [{"key": "a", "title": "A", "body": "{{ model.name }}"}]
    assert post(admin_client, sections).status_code == 302
    first = DocumentTemplate.objects.get(name="card")
    url = f"/admin/governance/documenttemplate/{first.pk}/change/"
    response = admin_client.post(
        url,
        {
            "name": "card",
            "title": "Card 2",
            "description": "",
            "sections": json.dumps(sections),
            "is_active": "on",
            "preview_version": "",
        },
    )
    assert response.status_code == 302
    assert list(DocumentTemplate.objects.filter(name="card").values_list("version", "title")) == [
        (2, "Card 2"),
        (1, "Card"),
    ]


def test_a_syntax_error_is_a_form_error_not_a_crash(admin_client):
    response = post(admin_client, [{"key": "a", "title": "A", "body": "{% for %}"}])
    assert response.status_code == 200 and b"template error" in response.content
    assert not DocumentTemplate.objects.filter(name="card").exists()


def test_a_preview_renders_against_a_version_and_reports_unknown_variables(
    admin_client, doc_version
):
    sections = [{"key": "a", "title": "A", "body": "AUC {{ version.metrics.auc }}"}]
    response = post(admin_client, sections, preview_version="credit-model/1", _preview="1")
    assert response.status_code == 200 and b"AUC 0.913" in response.content
    assert b"nothing was saved" in response.content
    bad = [{"key": "a", "title": "A", "body": "{{ version.metrix }}"}]
    response = post(admin_client, bad, preview_version="credit-model/1")
    assert b"Unknown variable in a: version.metrix" in response.content
    assert not DocumentTemplate.objects.filter(name="card").exists()


def test_the_model_version_admin_action_requests_model_cards(admin_client, doc_version):
    from governance.models import GeneratedDocument

    response = admin_client.post(
        "/admin/registry/modelversion/",
        {"action": "generate_model_cards", "_selected_action": [doc_version.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Model card requested for 1 version" in response.content.decode()
    document = GeneratedDocument.objects.get(version=doc_version)
    assert document.template.name == "model-card"
