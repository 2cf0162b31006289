"""The demo's customer-churn model arrives through the real MLflow client, as Carla's notebook
would send it: a Steward run with its data and a draft version in the workflow."""

from __future__ import annotations

import pytest

from accounts.choices import RoleName
from accounts.services import role_assign, team_add_member
from integrations.mlflow.demo import DEMO_EXPERIMENT, DEMO_MODEL, DEMO_USER, mlflow_demo_seed
from integrations.models import MlflowExperiment, MlflowVersionSource
from registry.choices import VersionStatus
from registry.demo import DEMO_PASSWORD
from registry.models import ModelVersion
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def carla():
    team = TeamFactory(name="Credit Risk", slug="credit-risk")
    user = UserFactory(username=DEMO_USER)
    user.set_password(DEMO_PASSWORD)
    user.save()
    team_add_member(team=team, user=user)
    role_assign(user=user, role=RoleName.CONTRIBUTOR, team=team)
    return user


def test_the_demo_notebook_registers_customer_churn_through_mlflow(carla):
    created = mlflow_demo_seed()

    assert created and DEMO_MODEL in created[0]
    version = ModelVersion.objects.select_related("run", "registered_model").get(
        registered_model__name=DEMO_MODEL
    )
    assert version.status == VersionStatus.DRAFT
    assert version.registered_by == carla
    assert version.registered_model.owner_team.slug == "credit-risk"
    assert version.run.params["class_weight"] == "balanced"
    assert 0.5 < version.run.metrics["roc_auc"] <= 1.0
    assert version.run.input_links.get().dataset_version.uri.startswith("s3://bank-warehouse/")
    assert MlflowVersionSource.objects.get(model_version=version).source.startswith("models:/m-")
    assert MlflowExperiment.objects.get(name=DEMO_EXPERIMENT).team.slug == "credit-risk"
    assert mlflow_demo_seed() == [], "a second seeding adds nothing"
