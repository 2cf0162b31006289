"""Checks that later apps run before a registered model's classification changes.

The registry owns a model's risk tier and owning team, but whether they may change depends on
governance: while a version is under review or in production, a change of tier or team is a
governed decision of its own (an administrator's, with a motivation), not an edit. Governance
registers its gate here from its ``AppConfig.ready()``; the registry's update service runs every
gate before it changes anything, so the API, the admin and any later caller meet the same rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from accounts.models import User
from registry.models import RegisteredModel

# Called with the acting user, the locked model and the fields about to change
# ({"risk_tier": ..., "owner_team": ...}); raises a core.errors exception to refuse.
ModelChangeGate = Callable[[User, RegisteredModel, dict[str, Any]], None]

_gates: list[ModelChangeGate] = []


def model_change_gate_register(gate: ModelChangeGate) -> None:
    if gate not in _gates:
        _gates.append(gate)


def model_change_gates_run(actor: User, model: RegisteredModel, changes: dict[str, Any]) -> None:
    for gate in _gates:
        gate(actor, model, changes)
