"""The permission matrix's vocabulary: the personas, what each verb gives them, and the world of
records every request is tried against. Shared by the matrix and its per-protocol parts."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import ApiToken, RoleAssignment, Team
from governance.models import Annotation
from registry.models import (
    Artifact,
    Dataset,
    DatasetVersion,
    ModelRoleAssignment,
    ModelVersion,
    RegisteredModel,
    Run,
)

ANONYMOUS = "anonymous"
CONTRIBUTOR = "contributor"  # contributor of the owning team (Credit Risk)
OUTSIDER = "outsider"  # contributor of another team (Marketing)
VALIDATOR = "validator"
MANAGER = "manager"
ADMINISTRATOR = "administrator"
AUDITOR = "auditor"
# The serving gateway's account of Credit Risk: it views and logs production evidence, nothing
# else.
GATEWAY = "gateway"
# The contributor's API token with the read scope only: it reads what she reads and writes
# nothing.
READ_TOKEN = "read_token"
PERSONAS = [ANONYMOUS, CONTRIBUTOR, OUTSIDER, VALIDATOR, MANAGER, ADMINISTRATOR, AUDITOR, GATEWAY]
ALL_CALLERS = [*PERSONAS, READ_TOKEN]
DENIED = "denied"  # 401 or 403 for anonymous callers, depending on the authenticator


def everyone(status: int) -> dict[str, object]:
    return {p: status for p in PERSONAS if p != ANONYMOUS} | {ANONYMOUS: DENIED}


def only(success: int, who: set[str], *, others: int = 403, **special: int) -> dict[str, object]:
    """``who`` succeed with ``success``; everyone else signed in gets ``others`` unless named
    in ``special``; anonymous callers are always denied."""
    expected = {p: (success if p in who else others) for p in PERSONAS} | {ANONYMOUS: DENIED}
    return expected | special


# What each verb on Credit Risk's records gives each persona.
VIEW = everyone(200) | {OUTSIDER: 404}
CHANGE = only(200, {CONTRIBUTOR, ADMINISTRATOR}, **{OUTSIDER: 404})
CREATE_IN_TEAM = only(201, {CONTRIBUTOR, ADMINISTRATOR})
CREATE_UNDER = only(201, {CONTRIBUTOR, ADMINISTRATOR}, **{OUTSIDER: 404})
ADMIN_READ = only(200, {ADMINISTRATOR, AUDITOR})
ADMIN_WRITE = only(201, {ADMINISTRATOR})
ADMIN_DELETE = only(204, {ADMINISTRATOR})
ADMIN_UPDATE = only(200, {ADMINISTRATOR})
ANNOTATORS = {CONTRIBUTOR, VALIDATOR, MANAGER, ADMINISTRATOR}
WHY = "Ready for an independent review."


@dataclass
class World:
    team: Team
    model: RegisteredModel
    version: ModelVersion
    dataset: Dataset
    dataset_version: DatasetVersion
    run: Run
    artifact: Artifact
    removable_member: str
    role_assignment: RoleAssignment
    model_role_assignment: ModelRoleAssignment
    finding: Annotation
    token: ApiToken
    read_secret: str
    monitored: object = None
    mlflow: object = None
