"""Fifty managers approve the same version at once on PostgreSQL: exactly one decision wins,
the others are told the state has moved on (409), and the audit chain stays whole."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from accounts.choices import RoleName
from accounts.services import role_assign
from core.errors import Conflict
from core.eventlog import audit_chain_verify
from governance.choices import Action
from governance.models import Decision
from governance.services import version_transition
from registry.choices import RiskTier
from registry.choices import VersionStatus as S
from tests.factories import (
    ModelVersionFactory,
    RegisteredModelFactory,
    UserFactory,
    approval_sections_write,
    version_decide,
)
from tests.services import require_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ATTEMPTS = 50
WHY = "The validation report supports production use."


def test_fifty_concurrent_approvals_make_one_decision(contributor, validator, team):
    require_postgres()
    model = RegisteredModelFactory(owner_team=team, risk_tier=RiskTier.LOW)
    version = ModelVersionFactory(actor=contributor, registered_model=model)
    for actor, action in (
        (contributor, Action.SUBMIT),
        (validator, Action.CLAIM),
        (validator, Action.SIGN_OFF),
    ):
        version_decide(actor=actor, version=version, action=action, motivation=WHY)
    managers = []
    for n in range(5):
        manager = UserFactory(username=f"manager{n}")
        role_assign(user=manager, role=RoleName.MANAGER)
        managers.append(manager)

    approval_sections_write(version, manager=managers[0])  # what people owe, written first
    start = threading.Barrier(ATTEMPTS)
    outcomes: list[object] = []
    lock = threading.Lock()

    def approve(n: int) -> None:
        try:
            start.wait()
            version_transition(
                actor=managers[n % len(managers)],
                version=version,
                action=Action.APPROVE,
                motivation=WHY,
            )
            result: object = "approved"
        except Conflict as exc:
            result = exc.status_code
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            result = exc
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=approve, args=(n,)) for n in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert outcomes.count("approved") == 1, outcomes
    assert outcomes.count(409) == ATTEMPTS - 1, outcomes
    version.refresh_from_db()
    assert version.status == S.APPROVED
    assert Decision.objects.filter(version=version, action=Action.APPROVE).count() == 1
    assert audit_chain_verify().ok
