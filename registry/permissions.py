"""The registry's permission rules in one place.

Reads: every queryset a user sees goes through a ``restrict_*`` function first; what it
leaves out answers 404 everywhere. Writes: services call :func:`require` and
:func:`require_in_team` with the acting user before they change anything. Both ask
``accounts.access``, which ``user.has_perm(perm, obj)`` also asks, so the answers agree.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from guardian.shortcuts import get_users_with_perms

from accounts.access import TeamScope, governed_register, object_grants, perm_for, team_scope
from accounts.choices import Verb
from accounts.models import Team, User
from accounts.selectors import users_with_verb
from core.errors import Forbidden, NotFound
from registry.models import (
    Dataset,
    DatasetVersion,
    ModelVersion,
    RegisteredModel,
    Run,
)


def register_governed_models() -> None:
    """Called from RegistryConfig.ready(): how each registry object finds its permissions."""
    governed_register(RegisteredModel, owner_team_id=lambda m: m.owner_team_id)
    governed_register(
        ModelVersion,
        subject=lambda v: v.registered_model,
        owner_team_id=lambda v: v.registered_model.owner_team_id,
    )
    governed_register(Dataset, owner_team_id=lambda d: d.owner_team_id)
    governed_register(
        DatasetVersion,
        subject=lambda dv: dv.dataset,
        owner_team_id=lambda dv: dv.dataset.owner_team_id,
    )
    governed_register(Run, owner_team_id=lambda r: r.team_id)


def granted_model_ids(user: User, verb: str) -> frozenset[int]:
    """Models on which guardian grants ``user`` the verb (model-scoped roles, direct grants)."""
    return object_grants(user, RegisteredModel).get(verb, frozenset())


def model_visibility(user: User, verb: str = Verb.VIEW, *, prefix: str = "") -> Q | None:
    """A filter for registered models (or rows reached through ``prefix``) the user may
    ``verb``; None means everything."""
    scope = team_scope(user, verb)
    if scope.everywhere:
        return None
    visible = Q(**{f"{prefix}owner_team__in": scope.team_ids})
    granted = granted_model_ids(user, verb)
    if granted:
        visible |= Q(**{f"{prefix}pk__in": granted})
    return visible


def restrict_models(qs: QuerySet, user: User, verb: str = Verb.VIEW) -> QuerySet:
    visible = model_visibility(user, verb)
    return qs if visible is None else qs.filter(visible)


def restrict_model_versions(qs: QuerySet, user: User, verb: str = Verb.VIEW) -> QuerySet:
    visible = model_visibility(user, verb, prefix="registered_model__")
    return qs if visible is None else qs.filter(visible)


def _restrict_by_team(qs: QuerySet, user: User, team_field: str, verb: str) -> QuerySet:
    scope = team_scope(user, verb)
    return qs if scope.everywhere else qs.filter(**{f"{team_field}__in": scope.team_ids})


def restrict_datasets(qs: QuerySet, user: User, verb: str = Verb.VIEW) -> QuerySet:
    return _restrict_by_team(qs, user, "owner_team", verb)


def restrict_dataset_versions(qs: QuerySet, user: User, verb: str = Verb.VIEW) -> QuerySet:
    return _restrict_by_team(qs, user, "dataset__owner_team", verb)


def restrict_runs(qs: QuerySet, user: User, verb: str = Verb.VIEW) -> QuerySet:
    return _restrict_by_team(qs, user, "team", verb)


def restrict_artifacts(qs: QuerySet, user: User) -> QuerySet:
    """Uploads (Artifact rows) the user may see, and so read the bytes of: their own, one a
    model version they may view points at, or one made by the creator of a dataset version
    they may view that declares those bytes' hash. A hash declared on a record proves nothing
    (anyone can copy a hash); an upload proves its uploader held the bytes."""
    if team_scope(user, Verb.VIEW).everywhere:
        return qs
    versions = restrict_model_versions(ModelVersion.objects.all(), user)
    dataset_versions = restrict_dataset_versions(
        DatasetVersion.objects.filter(
            content_hash=OuterRef("sha256"), created_by=OuterRef("uploaded_by")
        ),
        user,
    )
    return qs.filter(
        Q(uploaded_by=user) | Q(pk__in=versions.values("artifact_id")) | Exists(dataset_versions)
    )


def require(user: User, verb: str, obj) -> None:
    """Refuse unless ``user`` may ``verb`` ``obj``: 404 if they may not even see it (its
    existence is not theirs to know), else 403."""
    if user.has_perm(perm_for(verb, obj), obj):
        return
    if verb == Verb.VIEW or not user.has_perm(perm_for(Verb.VIEW, obj), obj):
        raise NotFound(f"{type(obj)._meta.verbose_name.capitalize()} not found.")
    raise Forbidden(f"You may not {verb} {obj}.")


def require_in_team(user: User, verb: str, team: Team) -> None:
    """Refuse unless ``user`` may ``verb`` things of ``team`` (to create them there)."""
    scope = team_scope(user, verb)
    if scope.everywhere or team.pk in scope.team_ids:
        return
    raise Forbidden(f"You may not {verb} models, datasets or runs of team '{team.slug}'.")


def require_somewhere(user: User, verb: str) -> None:
    """Refuse unless ``user`` may ``verb`` in at least one team (e.g. to upload an artifact)."""
    scope = team_scope(user, verb)
    if not (scope.everywhere or scope.team_ids):
        raise Forbidden(f"You may not {verb} anything in the registry.")


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
            self._granted = granted_model_ids(self.user, Verb.VIEW)
        return model_id in self._granted

    def model_version(self, version: ModelVersion) -> bool:
        return self.registered_model(
            version.registered_model_id, version.registered_model.owner_team_id
        )

    def dataset_version(self, dataset_version: DatasetVersion) -> bool:
        return self.team(dataset_version.dataset.owner_team_id)

    def run(self, run: Run) -> bool:
        return self.team(run.team_id)
