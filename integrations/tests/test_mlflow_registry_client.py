"""The MLflow model registry routes through the real ``mlflow`` client against a live Steward:
models and versions, search and paging, tags, stages and aliases as workflow decisions, and
the refusals a team's boundary and a token's scope make, all in MLflow's error format.

The client reads its credentials from the environment, so each ``mlflow_as(user)`` switches who
every client object of the test speaks as."""

from __future__ import annotations

import mlflow
import pytest
from auditlog.models import LogEntry
from mlflow.exceptions import MlflowException

from core.models import AuditEvent
from governance.choices import Action
from integrations.models import MlflowModelTag, MlflowVersionTag
from registry.choices import RiskTier, VersionStatus
from registry.models import ModelVersion, RegisteredModel
from tests.factories import version_decide

pytestmark = pytest.mark.django_db(transaction=True)
WHY = "Evidence reviewed; the metrics meet the policy."
SOURCE = "s3://ml-bucket/churn/model"
# What a token needs beyond read/write for workflow decisions: a contributor's to submit, a
# manager's to deploy (promote, move a protected alias).
AUTHOR = ("read", "write", "submit")
DEPLOYER = ("read", "write", "deploy")


def refused(call, *args, **kwargs) -> MlflowException:
    with pytest.raises(MlflowException) as caught:
        call(*args, **kwargs)
    return caught.value


def approve(version, contributor, validator, manager) -> None:
    """Walk a draft through the workflow as its personas do, up to approved."""
    for actor, action in (
        (contributor, Action.SUBMIT),
        (validator, Action.CLAIM),
        (validator, Action.SIGN_OFF),
        (manager, Action.APPROVE),
    ):
        version_decide(actor=actor, version=version, action=action, motivation=WHY)


def test_it_registers_gets_updates_and_pages_through_models(mlflow_as, contributor, team):
    client = mlflow_as(contributor)
    for letter in "gfedcba":
        client.create_registered_model(f"churn-{letter}", description=f"model {letter}")
    client.create_registered_model("other")

    model = client.get_registered_model("churn-a")
    assert (model.name, model.description) == ("churn-a", "model a")
    assert model.tags == {"steward.team": "credit-risk", "steward.risk_tier": "medium"}
    assert RegisteredModel.objects.get(name="churn-a").owner_team == team

    names, token, pages = [], None, 0
    while True:
        page = client.search_registered_models("name LIKE 'churn-%'", 3, page_token=token)
        names += [m.name for m in page]
        pages += 1
        token = page.token
        if not token:
            break
    assert pages == 3
    assert names == [f"churn-{letter}" for letter in "abcdefg"]

    backwards = client.search_registered_models(max_results=2, order_by=["name DESC"])
    assert [m.name for m in backwards] == ["other", "churn-g"]
    assert [m.name for m in client.search_registered_models("name ILIKE 'CHURN-A'")] == ["churn-a"]

    updated = client.update_registered_model("churn-a", description="Churn, monthly.")
    assert updated.description == "Churn, monthly."
    assert AuditEvent.objects.filter(action="model.update", scope_model="churn-a").exists()


def test_a_malformed_filter_or_token_is_an_invalid_parameter(mlflow_as, contributor):
    client = mlflow_as(contributor)
    client.create_registered_model("churn")
    for bad in ("name = ", "name = 'a' OR name = 'b'", "size > 3", "name = 'x'; drop"):
        error = refused(client.search_registered_models, bad)
        assert error.error_code == "INVALID_PARAMETER_VALUE", bad
    error = refused(client.search_registered_models, page_token="forged")
    assert error.error_code == "INVALID_PARAMETER_VALUE"
    error = refused(client.search_registered_models, order_by=["size DESC"])
    assert error.error_code == "INVALID_PARAMETER_VALUE"


def test_tags_are_key_value_rows_searchable_with_backticks(mlflow_as, contributor):
    client = mlflow_as(contributor)
    client.create_registered_model("churn", tags={"owner.group": "crm", "stage": "beta"})
    client.create_registered_model("fraud")
    events = AuditEvent.objects.count()
    client.set_registered_model_tag("fraud", "owner.group", "risk")
    client.set_registered_model_tag("fraud", "owner.group", "fraud-ops")
    client.delete_registered_model_tag("churn", "stage")

    assert client.get_registered_model("churn").tags == {
        "owner.group": "crm",
        "steward.team": "credit-risk",
        "steward.risk_tier": "medium",
    }
    found = client.search_registered_models("tags.`owner.group` = 'fraud-ops'")
    assert [m.name for m in found] == ["fraud"]
    found = client.search_registered_models("tag.`owner.group` != 'crm'")
    assert [m.name for m in found] == ["fraud"]
    # Tag writes are field-level audited with their actor, not decisions of the chain.
    assert AuditEvent.objects.count() == events
    entries = LogEntry.objects.get_for_model(MlflowModelTag)
    assert entries.count() >= 4
    assert {entry.actor for entry in entries} == {contributor}

    error = refused(client.set_registered_model_tag, "churn", "steward.team", "marketing")
    assert error.error_code == "INVALID_PARAMETER_VALUE"
    error = refused(client.delete_registered_model_tag, "churn", "never-set")
    assert error.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_the_team_and_risk_tier_come_from_steward_tags(
    mlflow_as, contributor, team, other_team, outsider
):
    client = mlflow_as(contributor)
    client.create_registered_model("scorer", tags={"steward.risk_tier": "high"})
    assert RegisteredModel.objects.get(name="scorer").risk_tier == RiskTier.HIGH
    client.create_registered_model("scorer-2", tags={"steward.team": "Credit Risk"})
    assert RegisteredModel.objects.get(name="scorer-2").owner_team == team

    error = refused(client.create_registered_model, "x", tags={"steward.team": "marketing"})
    assert error.error_code == "PERMISSION_DENIED"
    error = refused(client.create_registered_model, "y", tags={"steward.risk_tier": "huge"})
    assert error.error_code == "INVALID_PARAMETER_VALUE"
    assert not RegisteredModel.objects.filter(name__in=["x", "y"]).exists()

    # Names are unique across teams: RESOURCE_ALREADY_EXISTS, never the other team's model.
    error = refused(mlflow_as(outsider).create_registered_model, "scorer")
    assert error.error_code == "RESOURCE_ALREADY_EXISTS"
    # register_model tolerates that code and creates a version: not in another team's model.
    error = refused(mlflow.register_model, SOURCE, "scorer")
    assert error.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert not ModelVersion.objects.filter(registered_model__name="scorer").exists()


def test_rename_is_refused_with_stewards_reason(mlflow_as, contributor):
    client = mlflow_as(contributor)
    client.create_registered_model("churn")
    error = refused(client.rename_registered_model, "churn", "churn-v2")
    assert error.error_code == "INVALID_PARAMETER_VALUE"
    assert "identity" in error.message
    assert RegisteredModel.objects.filter(name="churn").exists()
    error = refused(client.rename_registered_model, "nothing", "else")
    assert error.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_a_version_is_a_draft_with_its_source_tags_and_stage(mlflow_as, contributor):
    client = mlflow_as(contributor)
    client.create_registered_model("churn")
    created = client.create_model_version("churn", SOURCE, tags={"purpose": "test"})
    assert (created.version, created.status, created.current_stage) == ("1", "READY", "None")
    assert created.tags == {
        "purpose": "test",
        "steward.files": "external",
        "steward.status": "draft",
    }
    version = ModelVersion.objects.get(registered_model__name="churn", version=1)
    assert version.status == VersionStatus.DRAFT
    assert version.artifact_uri == SOURCE and version.registered_by == contributor
    assert version.mlflow_source.source == SOURCE
    assert AuditEvent.objects.filter(action="version.register", scope_version="churn/1").exists()

    fetched = client.get_model_version("churn", "1")
    assert (fetched.source, fetched.user_id) == (SOURCE, "carol")
    assert client.get_model_version_download_uri("churn", "1") == SOURCE
    updated = client.update_model_version("churn", "1", description="First cut.")
    assert updated.description == "First cut."

    client.create_model_version("churn", SOURCE + "-2")
    found = client.search_model_versions("name = 'churn'")
    assert sorted(v.version for v in found) == ["1", "2"]
    found = client.search_model_versions("name='churn' AND tags.purpose = 'test'")
    assert [v.version for v in found] == ["1"]
    client.set_model_version_tag("churn", "2", "purpose", "retry")
    client.delete_model_version_tag("churn", "1", "purpose")
    assert client.get_model_version("churn", "1").tags == {
        "steward.files": "external",
        "steward.status": "draft",
    }
    assert MlflowVersionTag.objects.filter(key="purpose").count() == 1
    latest = client.get_latest_versions("churn", stages=["None"])
    assert [v.version for v in latest] == ["2"]


def test_stage_transitions_are_workflow_decisions(mlflow_as, contributor, validator, manager, team):
    client = mlflow_as(contributor, scopes=AUTHOR)
    client.create_registered_model("churn")
    client.create_model_version("churn", SOURCE)

    error = refused(client.transition_model_version_stage, "churn", "1", "Production")
    assert error.error_code == "RESOURCE_CONFLICT"
    assert "'draft' cannot take 'promote'" in error.message and "approved" in error.message
    version = ModelVersion.objects.get(registered_model__name="churn", version=1)
    assert version.status == VersionStatus.DRAFT

    staged = client.transition_model_version_stage("churn", "1", "Staging")
    assert staged.current_stage == "Staging"
    assert staged.tags["steward.status"] == "submitted"
    decision = version.decisions.get()
    assert decision.actor == contributor and "transition-stage" in decision.motivation

    for actor, action in ((validator, Action.CLAIM), (validator, Action.SIGN_OFF)):
        version_decide(actor=actor, version=version, action=action, motivation=WHY)
    as_manager = mlflow_as(manager, scopes=DEPLOYER)
    error = refused(as_manager.transition_model_version_stage, "churn", "1", "Production")
    assert error.error_code == "RESOURCE_CONFLICT"
    assert "validated" in error.message and "approved" in error.message
    version_decide(actor=manager, version=version, action=Action.APPROVE, motivation=WHY)
    live = as_manager.transition_model_version_stage("churn", "1", "Production")
    assert live.current_stage == "Production"
    client = mlflow_as(contributor, scopes=AUTHOR)
    assert [v.version for v in client.get_latest_versions("churn", ["production"])] == ["1"]
    error = refused(client.transition_model_version_stage, "churn", "1", "None")
    assert error.error_code == "RESOURCE_CONFLICT"


def test_a_protected_alias_waits_for_approval(mlflow_as, contributor, validator, manager):
    client = mlflow_as(contributor)
    client.create_registered_model("churn")
    client.create_model_version("churn", SOURCE)
    version = ModelVersion.objects.get(registered_model__name="churn", version=1)

    as_manager = mlflow_as(manager, scopes=DEPLOYER)
    error = refused(as_manager.set_registered_model_alias, "churn", "champion", "1")
    assert error.error_code == "RESOURCE_CONFLICT"
    assert "protected alias" in error.message and "draft" in error.message
    assert not version.aliases.exists()

    client = mlflow_as(contributor)
    client.set_registered_model_alias("churn", "candidate", "1")  # not protected
    assert client.get_model_version_by_alias("churn", "candidate").version == "1"

    approve(version, contributor, validator, manager)
    client = mlflow_as(contributor)
    error = refused(client.set_registered_model_alias, "churn", "champion", "1")
    assert error.error_code == "PERMISSION_DENIED"  # moving it is the deploy verb's
    error = refused(mlflow_as(manager).set_registered_model_alias, "churn", "champion", "1")
    assert error.error_code == "PERMISSION_DENIED"  # and the token's deploy scope
    as_manager = mlflow_as(manager, scopes=DEPLOYER)
    as_manager.set_registered_model_alias("churn", "champion", "1")
    by_alias = as_manager.get_model_version_by_alias("churn", "champion")
    assert (by_alias.version, sorted(by_alias.aliases)) == ("1", ["candidate", "champion"])
    model = as_manager.get_registered_model("churn")
    assert model.aliases == {"candidate": "1", "champion": "1"}
    as_manager.delete_registered_model_alias("churn", "champion")
    error = refused(as_manager.get_model_version_by_alias, "churn", "champion")
    assert error.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_another_teams_models_do_not_exist_for_an_outsider(
    mlflow_as, contributor, outsider, validator
):
    mlflow_as(contributor).create_registered_model("churn")
    mlflow_as(contributor).create_model_version("churn", SOURCE)

    otto = mlflow_as(outsider)
    for call, args in (
        (otto.get_registered_model, ("churn",)),
        (otto.get_model_version, ("churn", "1")),
        (otto.create_model_version, ("churn", SOURCE)),
        (otto.set_registered_model_tag, ("churn", "k", "v")),
        (otto.get_model_version_download_uri, ("churn", "1")),
        (otto.delete_model_version, ("churn", "1")),
    ):
        assert refused(call, *args).error_code == "RESOURCE_DOES_NOT_EXIST", call
    assert list(otto.search_registered_models()) == []
    assert list(otto.search_model_versions("name = 'churn'")) == []
    assert ModelVersion.objects.count() == 1

    # A validator sees the model but registers nothing.
    error = refused(mlflow_as(validator).create_model_version, "churn", SOURCE)
    assert error.error_code == "PERMISSION_DENIED"
    assert refused(mlflow_as(contributor).get_registered_model, "nothing").error_code == (
        "RESOURCE_DOES_NOT_EXIST"
    )


def test_a_read_token_reads_and_writes_nothing(mlflow_as, contributor):
    writer = mlflow_as(contributor)
    writer.create_registered_model("churn")
    writer.create_model_version("churn", SOURCE)
    reader = mlflow_as(contributor, scopes=("read",))
    assert reader.get_registered_model("churn").name == "churn"
    assert [v.version for v in reader.get_latest_versions("churn")] == ["1"]
    for call, args in (
        (reader.create_registered_model, ("fraud",)),
        (reader.create_model_version, ("churn", SOURCE)),
        (reader.set_registered_model_tag, ("churn", "k", "v")),
        (reader.update_registered_model, ("churn", "changed")),
        (reader.transition_model_version_stage, ("churn", "1", "Staging")),
        (reader.transition_model_version_stage, ("churn", "1", "None")),
        (reader.set_registered_model_alias, ("churn", "candidate", "1")),
    ):
        assert refused(call, *args).error_code == "PERMISSION_DENIED", call
    assert not RegisteredModel.objects.filter(name="fraud").exists()
    assert ModelVersion.objects.get().status == VersionStatus.DRAFT
    assert not ModelVersion.objects.get().aliases.exists()


def test_deletion_follows_stewards_rules(mlflow_as, contributor, validator, manager, administrator):
    client = mlflow_as(contributor)
    client.create_registered_model("churn")
    client.create_model_version("churn", SOURCE)
    client.create_model_version("churn", SOURCE)
    # Deleting is the archive verb's (an administrator's), not a contributor's.
    error = refused(client.delete_model_version, "churn", "2")
    assert error.error_code == "PERMISSION_DENIED"
    admin = mlflow_as(administrator)
    admin.delete_model_version("churn", "2")
    assert not ModelVersion.objects.filter(version=2).exists()

    approve(ModelVersion.objects.get(version=1), contributor, validator, manager)
    error = refused(admin.delete_model_version, "churn", "1")
    assert error.error_code == "RESOURCE_CONFLICT"
    assert "approved" in error.message
    error = refused(admin.delete_registered_model, "churn")
    assert error.error_code == "RESOURCE_CONFLICT"
    assert ModelVersion.objects.filter(version=1).exists()


@pytest.mark.parametrize(
    ("method", "call", "body"),
    [
        ("GET", "model-versions/get", {"name": "churn", "version": "abc"}),
        ("GET", "model-versions/get", {"name": "churn"}),
        ("GET", "registered-models/search", {"max_results": "0"}),
        ("GET", "registered-models/search", {"max_results": "many"}),
        ("GET", "model-versions/search", {"filter": "run_id = 'not-a-run'"}),
        ("GET", "model-versions/search", {"filter": "version_number > 'x'"}),
        ("POST", "registered-models/create", {"name": "Churn Model"}),
        ("POST", "registered-models/create", {"name": "ok", "tags": "k=v"}),
        ("POST", "registered-models/create", {"name": "ok", "tags": [{"key": 1}]}),
        ("POST", "registered-models/create", ["not", "an", "object"]),
        ("POST", "model-versions/create", {"name": "churn"}),
        ("POST", "model-versions/create", {"name": "churn", "source": "s3://x\nInjected: 1"}),
        ("POST", "model-versions/transition-stage", {"name": "churn", "version": "1"}),
        (
            "POST",
            "model-versions/transition-stage",
            {"name": "churn", "version": "1", "stage": "Staging", "archive_existing_versions": 3},
        ),
        ("POST", "registered-models/get-latest-versions", {"name": "churn", "stages": ["Live"]}),
        ("POST", "registered-models/alias", {"name": "churn", "alias": "latest", "version": "1"}),
    ],
)
def test_bad_input_is_a_400_in_mlflows_format(live_server, contributor, method, call, body):
    import requests

    from integrations.mlflow.registry.services import (
        mlflow_model_version_create,
        mlflow_registered_model_create,
    )
    from integrations.tests.conftest import token_of

    model = mlflow_registered_model_create(actor=contributor, name="churn")
    mlflow_model_version_create(actor=contributor, model=model, source=SOURCE)
    url = f"{live_server.url}/api/2.0/mlflow/{call}"
    headers = {"Authorization": f"Bearer {token_of(contributor)}"}
    if method == "GET":
        answer = requests.get(url, params=body, headers=headers, timeout=30)
    else:
        answer = requests.request(method, url, json=body, headers=headers, timeout=30)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert answer.json()["message"]


def test_a_password_works_like_a_token_and_an_auditor_reads_only(mlflow_as, contributor, auditor):
    """Basic auth (MLFLOW_TRACKING_USERNAME/PASSWORD) reaches the same routes with the
    user's own permissions; an auditor sees every team's models and changes none."""
    from tests.factories import PASSWORD

    client = mlflow_as(contributor, password=PASSWORD)
    client.create_registered_model("churn")
    for _ in range(5):
        client.create_model_version("churn", SOURCE)
    assert RegisteredModel.objects.get(name="churn").created_by == contributor

    reader = mlflow_as(auditor, password=PASSWORD)
    numbers, token = [], None
    while True:
        page = reader.search_model_versions("name = 'churn'", max_results=2, page_token=token)
        numbers += [v.version for v in page]
        token = page.token
        if not token:
            break
    assert numbers == ["5", "4", "3", "2", "1"]
    ordered = reader.search_model_versions("name = 'churn'", order_by=["version_number ASC"])
    assert [v.version for v in ordered] == ["1", "2", "3", "4", "5"]
    assert [v.version for v in reader.search_model_versions("version_number > 3")] == ["5", "4"]
    for call, args in (
        (reader.create_model_version, ("churn", SOURCE)),
        (reader.update_model_version, ("churn", "1", "changed")),
        (reader.set_model_version_tag, ("churn", "1", "k", "v")),
        (reader.transition_model_version_stage, ("churn", "1", "Staging")),
    ):
        assert refused(call, *args).error_code == "PERMISSION_DENIED", call
    assert ModelVersion.objects.filter(status=VersionStatus.DRAFT).count() == 5


def test_get_latest_versions_answers_a_get_too(live_server, contributor):
    import requests

    from integrations.mlflow.registry.services import (
        mlflow_model_version_create,
        mlflow_registered_model_create,
    )
    from integrations.tests.conftest import token_of

    model = mlflow_registered_model_create(actor=contributor, name="churn")
    mlflow_model_version_create(actor=contributor, model=model, source=SOURCE)
    answer = requests.get(
        f"{live_server.url}/api/2.0/mlflow/registered-models/get-latest-versions",
        params={"name": "churn", "stages": ["None", "Staging"]},
        headers={"Authorization": f"Bearer {token_of(contributor, ('read',))}"},
        timeout=30,
    )
    assert answer.status_code == 200
    [version] = answer.json()["model_versions"]
    assert (version["version"], version["current_stage"], version["status"]) == (
        "1",
        "None",
        "READY",
    )
