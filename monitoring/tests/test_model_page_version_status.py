"""The model page's versions table marks a production version that another version has
replaced in serving, exactly as the serving panel above it does: its "Production" status
badge followed by "Superseded" (naming the version that serves); the serving version and a
production version nobody replaced are not marked."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from monitoring.tests.factories import DeploymentFactory, ProductionVersionFactory
from registry.choices import RiskTier
from tests.factories import RegisteredModelFactory

pytestmark = pytest.mark.django_db


def status_cells(html: str) -> dict[str, str]:
    """Each version row's status cell, by the version's link text."""
    rows = re.findall(r'<tr data-testid="version-row">(.*?)</tr>', html, re.S)
    cells = {}
    for row in rows:
        version = re.search(r">(v\d+)</a>", row).group(1)
        cells[version] = re.search(r'data-testid="version-status">(.*?)</td>', row, re.S).group(1)
    return cells


def test_a_production_version_replaced_in_serving_is_marked_superseded(client, team, member):
    model = RegisteredModelFactory(name="credit-scorer", owner_team=team, risk_tier=RiskTier.LOW)
    v1 = ProductionVersionFactory(registered_model=model)
    first = DeploymentFactory(model_version=v1, name="scorer-prod-1")
    v2 = ProductionVersionFactory(registered_model=model)
    DeploymentFactory(model_version=v2, name="scorer-prod-2", replaces=first)
    client.force_login(member)
    response = client.get(reverse("registry:model-detail", args=["credit-scorer"]))
    assert response.status_code == 200
    cells = status_cells(response.content.decode())
    assert set(cells) == {"v1", "v2"}
    assert "Production" in cells["v1"] and "Superseded" in cells["v1"]
    assert 'title="By v2, which serves production traffic"' in cells["v1"]
    assert "Production" in cells["v2"] and "Superseded" not in cells["v2"]
    # The serving panel says the same of the same version.
    html = response.content.decode()
    assert re.search(r'data-version="1" data-serving="false" data-superseded="true"', html)


def test_production_versions_no_deployment_serves_are_not_marked(client, team, member):
    """In production by decision only, both: nothing serves, so nothing superseded them."""
    model = RegisteredModelFactory(name="credit-scorer", owner_team=team, risk_tier=RiskTier.LOW)
    ProductionVersionFactory(registered_model=model)
    ProductionVersionFactory(registered_model=model)
    client.force_login(member)
    response = client.get(reverse("registry:model-detail", args=["credit-scorer"]))
    cells = status_cells(response.content.decode())
    assert set(cells) == {"v1", "v2"}
    assert not [v for v, cell in cells.items() if "Superseded" in cell]
