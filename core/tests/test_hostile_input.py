"""Input that the database or the parser cannot take is a 400, never a 500."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from registry.models import RegisteredModel

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(contributor) -> APIClient:
    client = APIClient()
    client.force_authenticate(contributor)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/models/?search=%00",
        "/api/v1/models/?owner_team=a%00b",
        "/api/v1/models/?tag%00=x",
        "/api/v1/models/bad%00name/",
        "/api/v1/datasets/?search=x%00",
    ],
)
def test_nul_in_the_address_is_a_400_on_the_api(api, url):
    response = api.get(url)
    assert response.status_code == 400
    assert "NUL" in response.json()["message"]


def test_nul_in_the_address_is_a_400_page(client, contributor):
    client.force_login(contributor)
    response = client.get("/models/?q=%00")
    assert response.status_code == 400
    assert b"NUL" in response.content


def test_nul_in_a_json_string_is_a_400_and_saves_nothing(api, team):
    body = json.dumps({"name": "ok", "owner_team": team.slug, "description": "a\u0000b"})
    response = api.post("/api/v1/models/", body, content_type="application/json")
    assert response.status_code == 400
    assert not RegisteredModel.objects.exists()


def test_deeply_nested_json_is_a_400(api, team):
    deep = "[" * 5000 + "]" * 5000
    body = f'{{"name": "ok", "owner_team": "{team.slug}", "tags": {deep}}}'
    response = api.post("/api/v1/models/", body, content_type="application/json")
    assert response.status_code == 400
    moderately = json.dumps(
        {
            "name": "ok",
            "owner_team": team.slug,
            "description": "x",
            "tags": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
        }
    )
    response = api.post("/api/v1/models/", moderately, content_type="application/json")
    assert response.status_code == 400
    assert not RegisteredModel.objects.exists()


def test_unknown_pages_use_the_steward_404_page(client, contributor):
    client.force_login(contributor)
    response = client.get("/runs/not-a-uuid/")
    assert response.status_code == 404
    assert b"Steward" in response.content and b"Not found" in response.content
