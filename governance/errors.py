"""Errors of the workflow, with the guard results that explain them."""

from __future__ import annotations

from core.errors import Conflict, Forbidden


class IllegalTransition(Conflict):
    """The action does not leave the version's current state (409)."""

    default_code = "illegal_transition"


class GuardsFailed(Conflict):
    """The action is allowed from this state but the policy's guards are not met (409)."""

    default_code = "guards_failed"

    def __init__(self, message: str, *, guards):
        super().__init__(message, field_errors={"guards": [g.reason for g in guards]})
        self.guards = guards


class NotPermittedToDecide(Forbidden):
    """The actor may not take this decision on this version (403)."""

    default_code = "permission_denied"

    def __init__(self, message: str, *, guards=()):
        super().__init__(
            message, field_errors={"guards": [g.reason for g in guards]} if guards else None
        )
        self.guards = list(guards)
