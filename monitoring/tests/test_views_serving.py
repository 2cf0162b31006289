"""The model page says what is serving: each version's active deployments, which version
answers production traffic, a production version another one superseded, an approved version
not deployed; and that "Put in production" deploys nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from monitoring.choices import DeploymentMode, Environment
from monitoring.tests.factories import (
    ApprovedVersionFactory,
    DeploymentFactory,
    ProductionVersionFactory,
)
from registry.choices import RiskTier
from tests.factories import RegisteredModelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def model(team):
    """v1 went live, v2 replaced it live; v3 is approved, in staging only; v4 approved only."""
    model = RegisteredModelFactory(name="credit-scorer", owner_team=team, risk_tier=RiskTier.LOW)
    v1 = ProductionVersionFactory(registered_model=model)
    first = DeploymentFactory(model_version=v1, name="scorer-prod-1")
    v2 = ProductionVersionFactory(registered_model=model)
    DeploymentFactory(model_version=v2, name="scorer-prod-2", replaces=first)
    v3 = ApprovedVersionFactory(registered_model=model)
    DeploymentFactory(
        model_version=v3,
        name="scorer-staging",
        environment=Environment.STAGING,
        mode=DeploymentMode.SHADOW,
    )
    ApprovedVersionFactory(registered_model=model)
    return model


def rows(client, user, name="credit-scorer"):
    client.force_login(user)
    response = client.get(reverse("registry:model-detail", args=[name]))
    assert response.status_code == 200
    [panel] = [
        p for p in response.context["panels"] if p.template_name.endswith("serving_panel.html")
    ]
    return {row.version.version: row for row in panel.context["rows"]}, response.content.decode()


def test_it_shows_which_version_serves_and_which_was_superseded(client, member, model):
    by_version, html = rows(client, member)

    assert sorted(by_version) == [1, 2, 3, 4]
    assert by_version[2].serving and [d.name for d in by_version[2].deployments] == [
        "scorer-prod-2"
    ]
    assert not by_version[1].serving
    assert [v.version for v in by_version[1].superseded_by] == [2]
    assert not by_version[3].serving and by_version[3].deployments[0].name == "scorer-staging"
    assert not by_version[4].deployments
    assert 'data-version="1" data-serving="false" data-superseded="true"' in html
    assert 'data-version="2" data-serving="true"' in html
    assert "Approved for production, not deployed" in html
    assert "it deploys nothing" in html


def test_the_superseded_version_page_says_what_serves_instead(client, member, model):
    client.force_login(member)
    html = client.get(
        reverse("registry:model-version-detail", args=["credit-scorer", 1])
    ).content.decode()
    panel = html[html.index('data-testid="deployments-panel"') :]
    assert "Superseded" in panel
    assert "v2 serves this model" in panel


def test_another_team_sees_no_serving_panel_of_a_model_it_cannot_see(client, outsider, model):
    client.force_login(outsider)
    response = client.get(reverse("registry:model-detail", args=["credit-scorer"]))
    assert response.status_code == 404
