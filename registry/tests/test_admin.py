"""The admin console: every registry page opens, provenance is read-only, and a model created
in the admin goes through the service."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from registry.models import RegisteredModel
from tests.factories import DatasetVersionFactory, ModelVersionFactory, RunFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, team):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_every_registered_admin_page_opens(staff_client, team):
    dv = DatasetVersionFactory(dataset__owner_team=team)
    run = RunFactory(team=team, inputs=[(dv, "train")])
    ModelVersionFactory(run=run, registered_model__tags=["credit"])
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        response = staff_client.get(changelist, {"q": "a"})
        assert response.status_code == 200, changelist
        obj = model_admin.get_queryset(response.wsgi_request).first()
        if obj is not None:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            assert staff_client.get(change).status_code == 200, change


def test_provenance_cannot_be_added_or_edited_in_the_admin(staff_client):
    version = ModelVersionFactory()
    add = staff_client.get(reverse("admin:registry_modelversion_add"))
    assert add.status_code == 403
    change_url = reverse("admin:registry_modelversion_change", args=[version.pk])
    response = staff_client.post(change_url, {"artifact_sha256": "0" * 64})
    assert response.status_code == 403
    version.refresh_from_db()
    assert version.artifact_sha256 != "0" * 64


def test_a_model_added_in_the_admin_is_created_by_the_service(staff_client, team):
    response = staff_client.post(
        reverse("admin:registry_registeredmodel_add"),
        {
            "name": "admin-made",
            "owner_team": team.pk,
            "risk_tier": "high",
            "description": "x",
            "versions-TOTAL_FORMS": 0,
            "versions-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    model = RegisteredModel.objects.get(name="admin-made")
    assert model.created_by.username == "root"
    assert model.risk_tier == "high"
