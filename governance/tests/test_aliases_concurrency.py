"""Alias moves at once on PostgreSQL: the model row lock queues them, so the history is one
unbroken line (each move starts where the one before ended), nobody gets a 500 for a unique
clash, and champion never ends up on a version that left approved."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from core.errors import Conflict
from core.eventlog import audit_chain_verify
from governance.choices import Action
from governance.services import model_alias_set
from registry.models import ModelAlias, ModelAliasMove
from tests.factories import ModelVersionFactory, RegisteredModelFactory, version_decide
from tests.services import require_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
WHY = "The validation report supports this move."
ATTEMPTS = 16


def run_at_once(calls) -> list[object]:
    start = threading.Barrier(len(calls))
    outcomes: list[object] = []
    lock = threading.Lock()

    def worker(call) -> None:
        try:
            start.wait()
            result: object = call()
        except Conflict as exc:
            result = exc.status_code
        except BaseException as exc:  # noqa: BLE001 - reported by the assertions
            result = exc
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_concurrent_moves_of_one_alias_make_one_unbroken_history(team, contributor):
    require_postgres()
    model = RegisteredModelFactory(owner_team=team, name="churn")
    versions = [ModelVersionFactory(actor=contributor, registered_model=model) for _ in range(4)]

    def move(n: int):
        return lambda: model_alias_set(
            actor=contributor,
            model=model,
            alias="challenger",
            version=versions[n % len(versions)],
            motivation=WHY,
        )

    outcomes = run_at_once([move(n) for n in range(ATTEMPTS)])
    assert all(isinstance(o, ModelAlias) for o in outcomes), outcomes
    moves = list(ModelAliasMove.objects.order_by("id").values_list("from_version", "to_version"))
    assert moves[0][0] is None
    for before, after in zip(moves, moves[1:], strict=False):
        assert after[0] == before[1], moves  # each move starts where the last one ended
        assert after[0] != after[1]  # a move to the same version records nothing
    assert ModelAlias.objects.get().version.version == moves[-1][1]
    assert audit_chain_verify().ok


def test_champion_never_stays_on_a_version_deprecated_at_the_same_time(
    team, contributor, validator, manager
):
    require_postgres()
    model = RegisteredModelFactory(owner_team=team, name="churn")
    version = ModelVersionFactory(actor=contributor, registered_model=model)
    for actor, action in (
        (contributor, Action.SUBMIT),
        (validator, Action.CLAIM),
        (validator, Action.SIGN_OFF),
        (manager, Action.APPROVE),
    ):
        version_decide(actor=actor, version=version, action=action, motivation=WHY)

    def point():
        return model_alias_set(
            actor=manager, model=model, alias="champion", version=version, motivation=WHY
        )

    def deprecate():
        return version_decide(
            actor=manager, version=version, action=Action.DEPRECATE, motivation=WHY
        )

    outcomes = run_at_once([point, deprecate])
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    version.refresh_from_db()
    assert version.status == "deprecated"
    assert not ModelAlias.objects.filter(name="champion").exists()
    assert audit_chain_verify().ok
