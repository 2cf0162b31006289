"""Aliases of a model as governed decisions: who may point which alias at which version, what
every move leaves behind (a move row and a chain event), and what is refused without leaving
anything. Protected aliases follow the version out of approved / production."""

from __future__ import annotations

import pytest

from accounts.services.system import MONITOR_USERNAME
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.models import AuditEvent
from governance.choices import Action
from governance.services.aliases import alias_is_protected, model_alias_delete, model_alias_set
from governance.services.transitions import version_flag_by_monitoring
from registry.choices import VersionStatus as S
from registry.models import ModelAlias, ModelAliasMove
from registry.selectors import (
    model_alias_version,
    model_aliases,
    model_aliases_prefetch,
    version_aliases_prefetch,
)
from tests.factories import ModelVersionFactory, RegisteredModelFactory, version_decide

pytestmark = pytest.mark.django_db
WHY = "The new build beats the old one on every holdout."


@pytest.fixture
def model(team):
    return RegisteredModelFactory(owner_team=team, name="churn")


@pytest.fixture
def draft(model, contributor):
    return ModelVersionFactory(actor=contributor, registered_model=model)


@pytest.fixture
def approved(model, contributor, validator, manager):
    version = ModelVersionFactory(actor=contributor, registered_model=model)
    for actor, action in (
        (contributor, Action.SUBMIT),
        (validator, Action.CLAIM),
        (validator, Action.SIGN_OFF),
        (manager, Action.APPROVE),
    ):
        version_decide(actor=actor, version=version, action=action, motivation=WHY)
    version.refresh_from_db()
    assert version.status == S.APPROVED
    return version


def chain_length() -> int:
    return AuditEvent.objects.count()


def state(model) -> tuple:
    """Everything an alias move may change."""
    return (
        list(ModelAlias.objects.filter(registered_model=model).values_list("name", "version")),
        ModelAliasMove.objects.filter(registered_model=model).count(),
        chain_length(),
    )


def refused(error, call, model):
    before = state(model)
    with pytest.raises(error) as caught:
        call()
    assert state(model) == before, "a refused move changed something"
    return str(caught.value)


# --- unprotected aliases ------------------------------------------------------------------------


def test_it_lets_a_contributor_point_an_unprotected_alias_at_their_draft(model, draft, contributor):
    alias = model_alias_set(
        actor=contributor, model=model, alias="challenger", version=draft, motivation=WHY
    )
    assert (alias.name, alias.version, alias.set_by) == ("challenger", draft, contributor)
    move = ModelAliasMove.objects.get()
    assert (move.alias, move.from_version, move.to_version) == ("challenger", None, 1)
    assert (move.actor, move.motivation, move.protected) == (contributor, WHY, False)
    event = AuditEvent.objects.latest("sequence")
    assert event.action == "model.alias_set"
    assert event.actor_username == "carol"
    assert (event.scope_model, event.scope_version) == ("churn", "churn/1")
    assert event.data == {
        "alias": "challenger",
        "from": None,
        "to": 1,
        "protected": False,
        "motivation": WHY,
        "move": move.pk,
    }


def test_it_moves_an_alias_and_records_where_from(model, draft, contributor):
    second = ModelVersionFactory(actor=contributor, registered_model=model)
    model_alias_set(
        actor=contributor, model=model, alias="challenger", version=draft, motivation=WHY
    )
    model_alias_set(
        actor=contributor, model=model, alias="challenger", version=second, motivation=WHY
    )
    assert ModelAlias.objects.get().version == second
    moves = list(ModelAliasMove.objects.values_list("from_version", "to_version"))
    assert moves == [(None, 1), (1, 2)]
    assert AuditEvent.objects.latest("sequence").data["from"] == 1


def test_pointing_an_alias_at_the_version_it_names_records_nothing(model, draft, contributor):
    model_alias_set(
        actor=contributor, model=model, alias="challenger", version=draft, motivation=WHY
    )
    before = state(model)
    again = model_alias_set(actor=contributor, model=model, alias="challenger", version=draft)
    assert again.version == draft
    assert state(model) == before


@pytest.mark.parametrize(
    "persona", ["member", "validator", "manager", "auditor"], ids=lambda p: f"by-{p}"
)
def test_it_refuses_an_unprotected_alias_to_those_who_may_not_change_the_model(
    request, model, draft, persona
):
    actor = request.getfixturevalue(persona)
    message = refused(
        Forbidden,
        lambda: model_alias_set(
            actor=actor, model=model, alias="challenger", version=draft, motivation=WHY
        ),
        model,
    )
    assert "may not change the aliases of churn" in message


def test_it_hides_the_model_from_an_outsider(model, draft, outsider):
    refused(
        NotFound,
        lambda: model_alias_set(
            actor=outsider, model=model, alias="challenger", version=draft, motivation=WHY
        ),
        model,
    )
    with pytest.raises(NotFound):
        model_alias_version(user=outsider, model=model, alias="challenger")


def test_it_refuses_a_version_of_another_model(model, team, contributor):
    other = ModelVersionFactory(
        actor=contributor, registered_model=RegisteredModelFactory(owner_team=team, name="fraud")
    )
    message = refused(
        InvalidInput,
        lambda: model_alias_set(
            actor=contributor, model=model, alias="challenger", version=other, motivation=WHY
        ),
        model,
    )
    assert "not a version of churn" in message


@pytest.mark.parametrize(
    "name", ["", "latest", "LATEST", "v3", "V12", "a b", "café", "x/y", "a" * 256]
)
def test_it_refuses_alias_names_mlflow_refuses(model, draft, contributor, name):
    refused(
        InvalidInput,
        lambda: model_alias_set(
            actor=contributor, model=model, alias=name, version=draft, motivation=WHY
        ),
        model,
    )


def test_it_accepts_the_names_mlflow_accepts(model, draft, contributor):
    for name in ("a", "v", "v1x", "blue-green_2", "Latest2", "a" * 255):
        model_alias_set(actor=contributor, model=model, alias=name, version=draft, motivation=WHY)
    assert ModelAlias.objects.filter(registered_model=model).count() == 6


@pytest.mark.parametrize("motivation", ["", "   ", "too short"])
def test_it_wants_a_motivation(model, draft, contributor, motivation):
    message = refused(
        InvalidInput,
        lambda: model_alias_set(
            actor=contributor,
            model=model,
            alias="challenger",
            version=draft,
            motivation=motivation,
        ),
        model,
    )
    assert "motivation" in message


def test_a_token_needs_the_write_scope_for_an_unprotected_alias(model, draft, contributor):
    refused(
        Forbidden,
        lambda: model_alias_set(
            actor=contributor,
            model=model,
            alias="challenger",
            version=draft,
            motivation=WHY,
            token_scopes=["read", "submit"],
        ),
        model,
    )
    model_alias_set(
        actor=contributor,
        model=model,
        alias="challenger",
        version=draft,
        motivation=WHY,
        token_scopes=["write"],
    )


# --- protected aliases --------------------------------------------------------------------------


def test_a_manager_points_champion_at_an_approved_version(model, approved, manager):
    model_alias_set(actor=manager, model=model, alias="champion", version=approved, motivation=WHY)
    assert model_alias_version(user=manager, model=model, alias="champion") == approved
    event = AuditEvent.objects.latest("sequence")
    assert (event.action, event.actor_username) == ("model.alias_set", "max")
    assert event.data["protected"] is True
    assert ModelAliasMove.objects.get().protected is True


def test_champion_is_refused_to_a_contributor_even_on_an_approved_version(
    model, approved, contributor
):
    message = refused(
        Forbidden,
        lambda: model_alias_set(
            actor=contributor, model=model, alias="champion", version=approved, motivation=WHY
        ),
        model,
    )
    assert "protected alias" in message and "deploy" in message


@pytest.mark.parametrize("alias", ["champion", "Champion", "PRODUCTION", "prod"])
def test_a_protected_alias_never_points_at_a_draft(model, draft, manager, alias):
    message = refused(
        Conflict,
        lambda: model_alias_set(
            actor=manager, model=model, alias=alias, version=draft, motivation=WHY
        ),
        model,
    )
    assert "approved or production" in message and "draft" in message


def test_a_token_needs_the_deploy_scope_for_a_protected_alias(model, approved, manager):
    message = refused(
        Forbidden,
        lambda: model_alias_set(
            actor=manager,
            model=model,
            alias="champion",
            version=approved,
            motivation=WHY,
            token_scopes=["read", "write", "approve"],
        ),
        model,
    )
    assert "'deploy' scope" in message
    model_alias_set(
        actor=manager,
        model=model,
        alias="champion",
        version=approved,
        motivation=WHY,
        token_scopes=["deploy"],
    )


def test_the_protected_aliases_come_from_the_setting(settings, model, draft, contributor):
    settings.STEWARD_PROTECTED_ALIASES = ["gold"]
    assert alias_is_protected("GOLD") and not alias_is_protected("champion")
    model_alias_set(actor=contributor, model=model, alias="champion", version=draft, motivation=WHY)
    refused(
        Forbidden,
        lambda: model_alias_set(
            actor=contributor, model=model, alias="gold", version=draft, motivation=WHY
        ),
        model,
    )


# --- removal ------------------------------------------------------------------------------------


def test_removing_an_alias_is_a_recorded_move(model, draft, contributor):
    model_alias_set(
        actor=contributor, model=model, alias="challenger", version=draft, motivation=WHY
    )
    model_alias_delete(actor=contributor, model=model, alias="challenger", motivation=WHY)
    assert not ModelAlias.objects.exists()
    last = ModelAliasMove.objects.last()
    assert (last.from_version, last.to_version, last.actor) == (1, None, contributor)
    event = AuditEvent.objects.latest("sequence")
    assert event.action == "model.alias_remove"
    assert (event.data["from"], event.data["to"]) == (1, None)


def test_only_a_deployer_removes_champion(model, approved, manager, contributor):
    model_alias_set(actor=manager, model=model, alias="champion", version=approved, motivation=WHY)
    refused(
        Forbidden,
        lambda: model_alias_delete(
            actor=contributor, model=model, alias="champion", motivation=WHY
        ),
        model,
    )
    refused(
        Forbidden,
        lambda: model_alias_delete(
            actor=manager, model=model, alias="champion", motivation=WHY, token_scopes=["write"]
        ),
        model,
    )
    model_alias_delete(actor=manager, model=model, alias="champion", motivation=WHY)
    assert not ModelAlias.objects.exists()


def test_removing_an_alias_the_model_lacks_is_not_found(model, draft, contributor):
    message = refused(
        NotFound,
        lambda: model_alias_delete(actor=contributor, model=model, alias="ghost", motivation=WHY),
        model,
    )
    assert "no alias 'ghost'" in message


# --- the workflow clears protected aliases ------------------------------------------------------


def test_deprecating_a_version_clears_its_protected_aliases_only(
    model, approved, manager, contributor
):
    model_alias_set(actor=manager, model=model, alias="champion", version=approved, motivation=WHY)
    model_alias_set(actor=manager, model=model, alias="prod", version=approved, motivation=WHY)
    model_alias_set(
        actor=contributor, model=model, alias="challenger", version=approved, motivation=WHY
    )
    before = chain_length()
    decision = version_decide(
        actor=manager, version=approved, action=Action.DEPRECATE, motivation=WHY
    )
    assert list(ModelAlias.objects.values_list("name", flat=True)) == ["challenger"]
    cleared = ModelAliasMove.objects.filter(to_version=None).order_by("alias")
    assert [(m.alias, m.actor, m.motivation) for m in cleared] == [
        (name, manager, "cleared: version left approved by deprecate")
        for name in ("champion", "prod")
    ]
    events = AuditEvent.objects.filter(sequence__gt=before).order_by("sequence")
    assert [e.action for e in events] == [
        "version.deprecate",
        "model.alias_remove",
        "model.alias_remove",
    ]
    assert events[1].data["decision"] == decision.pk
    assert events[1].data["protected"] is True


def test_monitoring_flagging_a_live_version_takes_champion_off_it(model, approved, manager):
    version_decide(actor=manager, version=approved, action=Action.PROMOTE, motivation=WHY)
    model_alias_set(actor=manager, model=model, alias="champion", version=approved, motivation=WHY)
    version_flag_by_monitoring(version=approved, motivation="Critical drift alert on income.")
    assert not ModelAlias.objects.exists()
    move = ModelAliasMove.objects.last()
    assert move.motivation == "cleared: version left production by flag"
    assert move.actor.username == MONITOR_USERNAME


def test_promoting_keeps_champion(model, approved, manager):
    model_alias_set(actor=manager, model=model, alias="champion", version=approved, motivation=WHY)
    version_decide(actor=manager, version=approved, action=Action.PROMOTE, motivation=WHY)
    assert ModelAlias.objects.get().version == approved


# --- selectors ----------------------------------------------------------------------------------


def test_the_selectors_read_aliases_in_one_query_per_list(
    model, draft, contributor, django_assert_num_queries
):
    second = ModelVersionFactory(actor=contributor, registered_model=model)
    for name, version in (("b", draft), ("a", draft), ("c", second)):
        model_alias_set(actor=contributor, model=model, alias=name, version=version, motivation=WHY)
    assert [(a.name, a.version.version) for a in model_aliases(model)] == [
        ("a", 1),
        ("b", 1),
        ("c", 2),
    ]
    with django_assert_num_queries(2):
        versions = list(
            model.versions.order_by("version").prefetch_related(version_aliases_prefetch())
        )
        assert [[a.name for a in v.aliases.all()] for v in versions] == [["a", "b"], ["c"]]
    with django_assert_num_queries(2):
        found = type(model).objects.filter(pk=model.pk).prefetch_related(model_aliases_prefetch())
        assert [(a.name, a.version.version) for a in found[0].aliases.all()] == [
            ("a", 1),
            ("b", 1),
            ("c", 2),
        ]
    with pytest.raises(NotFound):
        model_alias_version(user=contributor, model=model, alias="d")
