"""How the registry's records are governed, and the registry's questions about many of them.

The rule itself is ``accounts.access``: every list starts with
``Model.objects.restrict(user, verb)`` (what it leaves out answers 404), every write asks
``accounts.access.require`` / ``require_in_team``. This module registers the paths by which
the registry's models find their permissions, says who may act on a model (notifications),
and answers "may this user see it?" for many related rows at once (:class:`Visibility`).
"""

from __future__ import annotations

from guardian.shortcuts import get_users_with_perms

from accounts.access import TeamScope, governed_register, object_grants, team_scope
from accounts.choices import Verb
from accounts.models import User
from accounts.selectors import users_with_verb
from registry.models import (
    Dataset,
    DatasetVersion,
    ModelVersion,
    RegisteredModel,
    Run,
)


def register_governed_models() -> None:
    """Called from RegistryConfig.ready(): how each registry object finds its permissions.
    Model-scoped roles are guardian grants on registered models, so a model's lists follow
    them; datasets and runs are their team's."""
    governed_register(RegisteredModel, grants=True)
    governed_register(ModelVersion, subject="registered_model", grants=True)
    governed_register(Dataset)
    governed_register(DatasetVersion, subject="dataset")
    governed_register(Run, team="team")


def users_who_may(verb: str, model: RegisteredModel) -> set[User]:
    """Everyone who may ``verb`` the model: role holders for it or its team, and holders of a
    guardian grant on it."""

    users = set(users_with_verb(verb, model.owner_team_id))
    perm = f"{verb}_registeredmodel"
    granted = get_users_with_perms(model, only_with_perms_in=[perm], with_superusers=False)
    users |= {user for user in granted if user.is_active}
    return users


class Visibility:
    """Answers "may this user see it?" for many related rows at once (a version's datasets,
    its run, its parent), from the user's team scope and one query for guardian grants at
    most, so rendering a list stays a constant number of queries."""

    def __init__(self, user: User):
        self.user = user
        self.scope = team_scope(user, Verb.VIEW)
        self._granted: frozenset[int] | None = None

    @classmethod
    def of_team(cls, team_id: int) -> Visibility:
        """What a plain member of one team sees: that team's records, and nothing granted
        elsewhere (no role outside the team, no grant on another team's model). Generated
        documents are rendered from this perspective: the owning team's."""
        visible = cls.__new__(cls)
        visible.user = None
        visible.scope = TeamScope(False, frozenset({team_id}))
        visible._granted = set()
        return visible

    def team(self, team_id: int | None) -> bool:
        return self.scope.everywhere or team_id in self.scope.team_ids

    def registered_model(self, model_id: int | None, team_id: int | None) -> bool:
        if self.team(team_id):
            return True
        if model_id is None:
            return False
        if self._granted is None:
            self._granted = object_grants(self.user, RegisteredModel).get(Verb.VIEW, frozenset())
        return model_id in self._granted

    def model_version(self, version: ModelVersion) -> bool:
        return self.registered_model(
            version.registered_model_id, version.registered_model.owner_team_id
        )

    def dataset_version(self, dataset_version: DatasetVersion) -> bool:
        return self.team(dataset_version.dataset.owner_team_id)

    def run(self, run: Run) -> bool:
        return self.team(run.team_id)
