"""In which role a person took a decision, as documents and the auditor's timeline name it:
the role whose verb the workflow table asks of that transition (a sign-off is a validator's,
an approval a manager's), read from the table rather than from the roles the person holds
today, so it cannot change after the fact."""

from __future__ import annotations

from accounts.choices import RoleName, Verb
from accounts.services.system import MONITOR_USERNAME
from governance import workflow
from governance.choices import Action

VERB_ROLES: dict[str, str] = {
    Verb.SUBMIT: RoleName.CONTRIBUTOR.label,
    Verb.VALIDATE: RoleName.VALIDATOR.label,
    Verb.APPROVE: RoleName.MANAGER.label,
    Verb.DEPLOY: RoleName.MANAGER.label,
    Verb.ARCHIVE: RoleName.ADMINISTRATOR.label,
    Verb.CLASSIFY: RoleName.ADMINISTRATOR.label,
}
# The monitor flags a version by itself (a failed check), no person's role.
SYSTEM_ROLE = "Monitoring"


def decision_role(decision, actor_username: str = "") -> str:
    """The role label of ``decision`` (any object with ``action`` and ``from_state``); the
    monitor's own flags are "Monitoring"."""
    if decision.action == Action.FLAG and actor_username == MONITOR_USERNAME:
        return SYSTEM_ROLE
    if decision.action == Action.RECLASSIFY:
        return RoleName.ADMINISTRATOR.label
    step = workflow.transition_for(decision.from_state, decision.action)
    return VERB_ROLES.get(step.verb, "") if step is not None else ""
