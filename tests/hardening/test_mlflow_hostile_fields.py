"""Every MLflow route, each of its fields replaced by hostile values (wrong types, NUL, huge
numbers, long strings, climbing paths): the answer is a 4xx in MLflow's error body (or a
success), never a 500 and never an HTML page."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from tests.access.matrix_mlflow import MLFLOW_MATRIX, mlflow_world_prepare
from tests.access.test_permission_matrix import personas, world  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

HOSTILE = [None, "", "\x00", 2**70, -1, 1.5, True, [], {}, "x" * 10_000, "../../etc/passwd"]
ROUTES = sorted(key for key in MLFLOW_MATRIX if key[0].startswith("mlflow-"))


def _variants(path: str, data):
    """(path, body) pairs: each body field, then each query parameter, hostile in turn."""
    if isinstance(data, dict):
        for field in data:
            for value in HOSTILE:
                yield path, {**data, field: value}
    if "?" in path:
        base, query = path.split("?", 1)
        pairs = [pair.split("=", 1) for pair in query.split("&")]
        for index, (name, _) in enumerate(pairs):
            for value in ("", "%00", str(2**70), "-1", "x" * 3000, "%2e%2e%2f"):
                changed = [f"{n}={value if i == index else v}" for i, (n, v) in enumerate(pairs)]
                yield f"{base}?{'&'.join(changed)}", None


@pytest.mark.parametrize(("route", "method"), ROUTES, ids=[f"{r}-{m}" for r, m in ROUTES])
def test_hostile_fields_get_mlflow_errors_not_500s(request, route, method):
    w = request.getfixturevalue("world")
    carol = request.getfixturevalue("personas")["contributor"]
    build, _ = MLFLOW_MATRIX[(route, method)]
    mlflow_world_prepare(route, method, w)
    path, data = build(w)
    client = APIClient()
    client.force_authenticate(carol)
    tried = 0
    for variant_path, body in _variants(path, data):
        if body is None:
            response = getattr(client, method.lower())(variant_path)
        else:
            response = client.generic(
                method, variant_path, json.dumps(body), content_type="application/json"
            )
        tried += 1
        assert response.status_code < 500, (variant_path, body, response.content[:300])
        assert response["Content-Type"].startswith("application/json"), variant_path
        if response.status_code >= 400:
            assert "error_code" in response.json(), (variant_path, response.content[:300])
    assert tried or not isinstance(data, dict)  # a raw upload body has no fields
