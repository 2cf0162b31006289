"""Governed deletion: only a never-submitted draft that nothing refers to may go, only someone
with the archive verb may delete it, and the chain keeps a snapshot of what was deleted.
Everything else is refused with the reason and the alternative, changing nothing."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType

from core.errors import Conflict, Forbidden, NotFound
from core.models import AuditEvent
from governance.choices import Action
from governance.models import Annotation
from governance.services import annotation_create
from governance.services.aliases import model_alias_set
from governance.services.deletion import (
    model_version_delete,
    registered_model_delete,
    version_deletion_refusal,
)
from registry.choices import LineageKind
from registry.choices import VersionStatus as S
from registry.models import (
    LineageEdge,
    LineageNode,
    ModelAlias,
    ModelAliasMove,
    ModelVersion,
    ModelVersionDataset,
    RegisteredModel,
)
from registry.services import model_role_assign
from tests.factories import (
    DatasetVersionFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    RunFactory,
    version_decide,
)

pytestmark = pytest.mark.django_db
WHY = "Reviewed the evidence and the lineage in full."


@pytest.fixture
def model(team):
    return RegisteredModelFactory(owner_team=team, name="churn", tags=["retail"])


@pytest.fixture
def draft(model, contributor, team):
    data = DatasetVersionFactory(dataset__owner_team=team)
    run = RunFactory(team=team)
    return ModelVersionFactory(
        actor=contributor,
        registered_model=model,
        run=run,
        datasets=[(data, "train")],
        metrics={"auc": 0.88},
    )


def everything() -> tuple:
    return (
        ModelVersion.objects.count(),
        RegisteredModel.objects.count(),
        LineageNode.objects.count(),
        LineageEdge.objects.count(),
        ModelAlias.objects.count(),
        AuditEvent.objects.count(),
    )


def refused(error, call) -> str:
    before = everything()
    with pytest.raises(error) as caught:
        call()
    assert everything() == before, "a refused deletion changed something"
    return str(caught.value)


def test_it_deletes_a_draft_and_keeps_its_snapshot_in_the_chain(
    model, draft, contributor, administrator
):
    model_alias_set(
        actor=contributor, model=model, alias="challenger", version=draft, motivation=WHY
    )
    node = LineageNode.objects.get(kind=LineageKind.MODEL_VERSION, object_id=draft.pk)
    assert LineageEdge.objects.filter(target=node).exists()
    pk, run_uuid = draft.pk, str(draft.run.uuid)

    model_version_delete(actor=administrator, version=draft)

    assert not ModelVersion.objects.filter(pk=pk).exists()
    assert not ModelVersionDataset.objects.filter(model_version_id=pk).exists()
    assert not LineageNode.objects.filter(pk=node.pk).exists()
    assert not LineageEdge.objects.filter(target_id=node.pk).exists()
    assert not ModelAlias.objects.exists()
    removal = ModelAliasMove.objects.last()
    assert (removal.alias, removal.from_version, removal.to_version) == ("challenger", 1, None)
    assert removal.actor == administrator
    snapshot = AuditEvent.objects.get(action="version.delete")
    assert snapshot.actor_username == "ada"
    assert (snapshot.scope_model, snapshot.scope_version) == ("churn", "churn/1")
    assert snapshot.data["status"] == S.DRAFT
    assert snapshot.data["artifact_sha256"] == draft.artifact_sha256
    assert snapshot.data["run"] == run_uuid
    assert snapshot.data["datasets"][0]["role"] == "train"
    assert snapshot.data["registered_by"] == "carol"
    assert snapshot.data["metrics"] == {"auc": 0.88}
    assert snapshot.data["aliases"] == ["challenger"]
    # The snapshot comes before the alias removal it explains.
    assert snapshot.sequence < AuditEvent.objects.get(action="model.alias_remove").sequence


def test_a_deleted_number_is_never_given_out_again(model, draft, contributor, administrator):
    model_version_delete(actor=administrator, version=draft)
    assert ModelVersionFactory(actor=contributor, registered_model=model).version == 2


@pytest.mark.parametrize("persona", ["contributor", "manager", "validator", "auditor"])
def test_it_needs_the_archive_verb(request, draft, persona):
    actor = request.getfixturevalue(persona)
    message = refused(Forbidden, lambda: model_version_delete(actor=actor, version=draft))
    assert "archive verb" in message


def test_it_hides_the_version_from_an_outsider(draft, outsider):
    refused(NotFound, lambda: model_version_delete(actor=outsider, version=draft))


def test_a_token_needs_the_write_scope(draft, administrator):
    refused(
        Forbidden,
        lambda: model_version_delete(
            actor=administrator, version=draft, token_scopes=["read", "annotate"]
        ),
    )
    model_version_delete(actor=administrator, version=draft, token_scopes=["write"])


@pytest.mark.parametrize(
    "steps, state",
    [
        ([("contributor", Action.SUBMIT)], "submitted"),
        (
            [
                ("contributor", Action.SUBMIT),
                ("validator", Action.CLAIM),
                ("validator", Action.SIGN_OFF),
                ("manager", Action.APPROVE),
            ],
            "approved",
        ),
        ([("administrator", Action.ARCHIVE)], "archived"),
    ],
    ids=["submitted", "approved", "archived"],
)
def test_nothing_that_left_draft_is_deleted(request, draft, administrator, steps, state):
    for persona, action in steps:
        version_decide(
            actor=request.getfixturevalue(persona), version=draft, action=action, motivation=WHY
        )
    draft.refresh_from_db()
    message = refused(Conflict, lambda: model_version_delete(actor=administrator, version=draft))
    assert f"it is {state}" in message
    assert "Archive it instead" in message


def test_a_draft_sent_back_for_changes_keeps_its_record(
    draft, contributor, validator, administrator
):
    for actor, action in (
        (contributor, Action.SUBMIT),
        (validator, Action.CLAIM),
        (validator, Action.REQUEST_CHANGES),
        (contributor, Action.REVISE),
    ):
        version_decide(actor=actor, version=draft, action=action, motivation=WHY)
    draft.refresh_from_db()
    assert draft.status == S.DRAFT
    message = refused(Conflict, lambda: model_version_delete(actor=administrator, version=draft))
    assert "submitted for review before" in message


def test_a_version_something_was_derived_from_stays(model, draft, contributor, administrator):
    ModelVersionFactory(actor=contributor, registered_model=model, derived_from=draft)
    message = refused(Conflict, lambda: model_version_delete(actor=administrator, version=draft))
    assert "model versions refer to it" in message


def test_a_version_with_notes_stays(draft, contributor, administrator):
    annotation_create(actor=contributor, target=draft, body="Why this threshold?", kind="question")
    assert Annotation.objects.filter(
        target_type=ContentType.objects.get_for_model(ModelVersion), target_id=draft.pk
    ).exists()
    message = refused(Conflict, lambda: model_version_delete(actor=administrator, version=draft))
    assert "notes" in message


def test_the_refusal_reason_is_readable_without_deleting(draft):
    assert version_deletion_refusal(draft) == ""


# --- registered models --------------------------------------------------------------------------


def test_it_deletes_a_model_of_drafts_with_a_snapshot_of_each(
    model, draft, contributor, administrator
):
    ModelVersionFactory(actor=contributor, registered_model=model)
    model_alias_set(
        actor=contributor, model=model, alias="challenger", version=draft, motivation=WHY
    )
    registered_model_delete(actor=administrator, model=model)
    assert not RegisteredModel.objects.filter(name="churn").exists()
    assert not ModelVersion.objects.filter(registered_model_id=model.pk).exists()
    assert not LineageNode.objects.filter(registered_model_id=model.pk).exists()
    deleted = list(
        AuditEvent.objects.filter(action__in=["version.delete", "model.delete"])
        .order_by("sequence")
        .values_list("action", "scope_version")
    )
    assert deleted == [
        ("version.delete", "churn/1"),
        ("version.delete", "churn/2"),
        ("model.delete", ""),
    ]
    record = AuditEvent.objects.get(action="model.delete").data
    assert record["name"] == "churn" and record["owner_team"] == "credit-risk"
    assert record["tags"] == ["retail"] and record["versions_deleted"] == [1, 2]
    assert record["created_by"]


def test_a_model_with_one_submitted_version_is_not_deleted(
    model, draft, contributor, administrator
):
    second = ModelVersionFactory(actor=contributor, registered_model=model)
    version_decide(actor=contributor, version=second, action=Action.SUBMIT, motivation=WHY)
    message = refused(Conflict, lambda: registered_model_delete(actor=administrator, model=model))
    assert "churn v2 cannot, as it is submitted" in message


def test_a_model_with_roles_held_for_it_is_not_deleted(model, validator, administrator):
    model_role_assign(actor=administrator, user=validator, role="validator", registered_model=model)
    message = refused(Conflict, lambda: registered_model_delete(actor=administrator, model=model))
    assert "role assignments" in message


def test_deleting_a_model_needs_the_archive_verb(model, contributor, outsider):
    refused(Forbidden, lambda: registered_model_delete(actor=contributor, model=model))
    refused(NotFound, lambda: registered_model_delete(actor=outsider, model=model))
