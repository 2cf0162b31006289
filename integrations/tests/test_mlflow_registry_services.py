"""The MLflow registry's services and selectors without HTTP: which team a model lands in,
stage transitions as workflow decisions (archive_existing_versions all or nothing), a version
registered by reference, and searches that cost the same number of queries for any page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.services import team_add_member
from core.errors import Forbidden, InvalidInput
from governance.choices import Action
from governance.errors import IllegalTransition, NotPermittedToDecide
from integrations.mlflow.registry.services import (
    mlflow_model_version_create,
    mlflow_registered_model_create,
    mlflow_team_choose,
)
from integrations.mlflow.registry.stages import mlflow_version_stage_transition
from integrations.tests.conftest import token_of
from registry.choices import VersionStatus as S
from tests.factories import TeamFactory, UserFactory, version_decide

pytestmark = pytest.mark.django_db
WHY = "Evidence reviewed; the metrics meet the policy."


@pytest.fixture
def model(contributor):
    return mlflow_registered_model_create(actor=contributor, name="churn")


def _version(actor, model, source="s3://bucket/churn", **extra):
    return mlflow_model_version_create(actor=actor, model=model, source=source, **extra)


def _approved(model, contributor, validator, manager):
    version = _version(contributor, model)
    for actor, action in (
        (contributor, Action.SUBMIT),
        (validator, Action.CLAIM),
        (validator, Action.SIGN_OFF),
        (manager, Action.APPROVE),
    ):
        version_decide(actor=actor, version=version, action=action, motivation=WHY)
    version.refresh_from_db()
    return version


def test_it_puts_a_model_in_the_users_first_team_or_the_one_named(contributor, team):
    later = TeamFactory(name="Pricing", slug="pricing")
    team_add_member(team=later, user=contributor)
    assert mlflow_team_choose(actor=contributor, named=None) == team
    assert mlflow_team_choose(actor=contributor, named="pricing") == later
    assert mlflow_team_choose(actor=contributor, named="Pricing") == later
    with pytest.raises(Forbidden):
        mlflow_team_choose(actor=contributor, named="marketing")
    with pytest.raises(Forbidden):
        mlflow_team_choose(actor=UserFactory(username="loner"), named=None)


def test_a_source_held_elsewhere_is_registered_by_reference(contributor, model, run_factory):
    run = run_factory()
    version = _version(contributor, model, run_id=run.uuid.hex, tags={"k": "v"})
    assert version.run == run  # a Steward run the user may see is linked
    assert version.status == S.DRAFT
    assert {t.key: t.value for t in version.mlflow_tags.all()} == {
        "k": "v",
        "steward.files": "external",
    }
    elsewhere = _version(contributor, model, run_id="ab" * 16)
    assert elsewhere.run is None
    assert elsewhere.mlflow_tags.get(key="steward.run_id").value == "ab" * 16
    with pytest.raises(InvalidInput):
        _version(contributor, model, tags={"steward.status": "approved"})


@pytest.fixture
def run_factory(contributor, team):
    from tests.factories import RunFactory

    return lambda: RunFactory(actor=contributor, team=team)


def test_stages_map_onto_the_workflow(contributor, administrator, model):
    version = _version(contributor, model)
    with pytest.raises(InvalidInput):
        mlflow_version_stage_transition(actor=contributor, version=version, stage="Live")
    with pytest.raises(InvalidInput):  # only with Production
        mlflow_version_stage_transition(
            actor=contributor, version=version, stage="Staging", archive_existing_versions=True
        )
    mlflow_version_stage_transition(actor=contributor, version=version, stage="none")
    assert version.decisions.count() == 0  # already there: nothing to decide

    with pytest.raises(NotPermittedToDecide):  # archiving is an administrator's verb
        mlflow_version_stage_transition(actor=contributor, version=version, stage="Archived")
    mlflow_version_stage_transition(actor=administrator, version=version, stage="Archived")
    version.refresh_from_db()
    assert version.status == S.ARCHIVED
    decision = version.decisions.get()
    assert (decision.action, decision.actor) == (Action.ARCHIVE, administrator)
    assert "transition-stage" in decision.motivation


def test_production_cannot_be_archived_before_it_is_deprecated(
    contributor, validator, manager, administrator, model
):
    version = _approved(model, contributor, validator, manager)
    mlflow_version_stage_transition(actor=manager, version=version, stage="Production")
    version.refresh_from_db()
    assert version.status == S.PRODUCTION
    with pytest.raises(IllegalTransition) as refused:
        mlflow_version_stage_transition(actor=administrator, version=version, stage="Archived")
    assert "deprecated first" in refused.value.message


def test_archive_existing_versions_deprecates_the_others_or_nothing(
    contributor, validator, manager, model
):
    first = _approved(model, contributor, validator, manager)
    mlflow_version_stage_transition(actor=manager, version=first, stage="Production")
    second = _approved(model, contributor, validator, manager)

    # A token that may deploy but not deprecate (the approve scope): all refused.
    with pytest.raises(NotPermittedToDecide):
        mlflow_version_stage_transition(
            actor=manager,
            version=second,
            stage="Production",
            archive_existing_versions=True,
            token_scopes=["read", "write", "deploy"],
        )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (S.PRODUCTION, S.APPROVED)

    mlflow_version_stage_transition(
        actor=manager, version=second, stage="Production", archive_existing_versions=True
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (S.DEPRECATED, S.PRODUCTION)
    assert first.decisions.order_by("-pk").first().actor == manager


def _query_count(client, path, **params) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        answer = client.get(path, params)
    assert answer.status_code == 200, answer.content
    return len(queries), answer.json()


def test_searches_cost_the_same_queries_for_any_page_size(contributor):
    for index in range(6):
        model = mlflow_registered_model_create(
            actor=contributor, name=f"m{index}", tags={"a": "1", "b": "2"}
        )
        for _ in range(2):
            _version(contributor, model, tags={"c": "3"})
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_of(contributor)}")
    models = "/api/2.0/mlflow/registered-models/search"
    _query_count(client, models)  # the token's first use records itself once
    small, answer = _query_count(client, models, max_results=1)
    large, answer = _query_count(client, models, max_results=6)
    assert len(answer["registered_models"]) == 6 and small == large
    versions = "/api/2.0/mlflow/model-versions/search"
    small, answer = _query_count(client, versions, max_results=1)
    large, answer = _query_count(client, versions, max_results=12)
    assert len(answer["model_versions"]) == 12 and small == large
