"""Who may do what to which governed record: the one place the answer is computed.

Governed models (registered models, datasets, runs, and the things that belong to them) are
registered here by the apps that own them, as ORM paths: the path from a row to its *subject*
(the object whose permissions apply: a version's model, a deployment's model) and the subject's
team field. Two questions are asked, with the same rules:

- ``may(user, verb, obj)``: one record (``user.has_perm`` asks :class:`RoleBackend`, which
  reads the registered paths); ``may(user, verb)`` without a record: held everywhere (reading
  the audit is ``may(user, Verb.READ_AUDIT)``);
- ``Model.objects.restrict(user, verb)``: the rows of a list (:class:`GovernedQuerySet`), so a
  list never shows what ``may`` would refuse.

Both read roles held globally or for the owning team (``RoleAssignment``, verbs in
``ROLE_VERBS``), membership of the owning team (``MEMBER_VERBS``: view) and django-guardian
object permissions on the subject (model-scoped roles, direct grants), in one query per user
(:func:`user_access`). :func:`require` and :func:`require_in_team` turn a "no" into 404 or
403 for the services.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import connection, models
from django.db.models import Q
from guardian.models import GroupObjectPermission, UserObjectPermission

from accounts.choices import Verb
from accounts.constants import GLOBAL_ONLY_VERBS, MEMBER_VERBS, ROLE_VERBS
from accounts.models import Role, RoleAssignment, Team, TeamMembership, User
from core.errors import Forbidden, NotFound


@dataclass(frozen=True)
class GovernedSpec:
    """How a governed model finds what its permissions are asked of, as ORM paths.

    ``subjects``: the path from a row to its *subject*, the object whose permissions apply
    (``""`` for the row itself, ``"registered_model"`` for a version). Several paths are
    alternatives, the first one set wins (an alert rule belongs to a deployment or to a model).
    ``team``: the subject's field naming its owning team. ``grants``: whether django-guardian
    grants on the subject widen lists (model-scoped roles are granted on registered models).
    ``model_level``: whether model-level questions (``has_perm`` without an object, as the
    admin asks them) are answered from global roles."""

    subjects: tuple[str, ...]
    team: str
    grants: bool
    model_level: bool

    def subject(self, obj: models.Model) -> models.Model:
        for path in self.subjects:
            found = _follow(obj, path)
            if found is not None:
                return found
        raise ValueError(f"{type(obj).__name__} {obj.pk} has none of {self.subjects}")

    def owner_team_id(self, obj: models.Model) -> int | None:
        return getattr(self.subject(obj), f"{self.team}_id")


def _follow(obj, path: str):
    for step in path.split("__") if path else ():
        if getattr(obj, f"{step}_id", True) is None:
            return None
        obj = getattr(obj, step)
    return obj


_GOVERNED: dict[type[models.Model], GovernedSpec] = {}


def governed_register(
    model: type[models.Model],
    *,
    subject: str | tuple[str, ...] = "",
    team: str = "owner_team",
    grants: bool = False,
    model_level: bool = True,
) -> None:
    """Declare that rows of ``model`` are governed (see :class:`GovernedSpec` for the paths):
    ``may`` answers for them, and ``model.objects.restrict(user, verb)`` filters them."""
    subjects = (subject,) if isinstance(subject, str) else tuple(subject)
    _GOVERNED[model] = GovernedSpec(subjects, team, grants, model_level)


def _governed_labels() -> set[str]:
    """``app_label.model_name`` of every governed model answering model-level questions."""
    return {
        f"{model._meta.app_label}.{model._meta.model_name}"
        for model, spec in _GOVERNED.items()
        if spec.model_level
    }


def governed_spec(obj: models.Model) -> GovernedSpec | None:
    return _GOVERNED.get(type(obj))


@dataclass
class UserAccess:
    """A user's roles, read once per user object (per request)."""

    global_verbs: set[str] = field(default_factory=set)
    team_verbs: dict[int, set[str]] = field(default_factory=dict)
    # content type id -> verb -> object primary keys (as stored by guardian: text)
    object_grants: dict[int, dict[str, set[str]]] = field(default_factory=dict)

    def verbs_for_team(self, team_id: int | None) -> set[str]:
        if team_id is None:
            return set(self.global_verbs)
        return self.global_verbs | self.team_verbs.get(team_id, set())


def user_access(user, rows=None) -> UserAccess:
    """The verbs ``user`` holds globally and per team, and the guardian object grants, cached on
    the user object: one query, asked by nearly every request. ``rows``: the rows of
    :func:`_ACCESS_SQL` when they were read along with the user (a bearer token's lookup reads
    them in its own query); they are then taken, not read again."""
    cached = getattr(user, "_steward_access", None)
    if cached is not None and rows is None:
        return cached
    access = UserAccess()
    if user.is_authenticated and user.is_active:
        if rows is None:
            with connection.cursor() as cursor:
                cursor.execute(_ACCESS_SQL(), [user.pk] * 4)
                rows = cursor.fetchall()
        for kind, name, team_id, content_type_id, object_pk in rows:
            if kind == "grant":
                verbs = access.object_grants.setdefault(content_type_id, {})
                verbs.setdefault(verb_of(name)[0], set()).add(object_pk)
                continue
            verbs = MEMBER_VERBS if kind == "member" else ROLE_VERBS.get(name, frozenset())
            if team_id is None:
                access.global_verbs |= verbs
            else:
                # Reading the audit is a global role's: a team's auditor reads its records.
                access.team_verbs.setdefault(team_id, set()).update(verbs - GLOBAL_ONLY_VERBS)
    user._steward_access = access
    return access


@cache
def _ACCESS_SQL(user: str = "%s") -> str:  # noqa: N802 - a constant, built once the models are loaded
    """Roles, memberships, and direct and group object permissions (django-guardian) of one
    user, as (kind, role or codename, team, content type, object) rows. Table names come from
    the models; the only parameter is the user's id (``user``: or the column that holds it,
    when the rows are a subquery of another query). The first branch's NULLs are typed for
    PostgreSQL, which types a UNION's columns from it, and names the columns."""

    table = lambda model: connection.ops.quote_name(model._meta.db_table)  # noqa: E731
    user_groups = connection.ops.quote_name(User.groups.through._meta.db_table)
    group_fk = User.groups.field.m2m_reverse_name()
    user_fk = User.groups.field.m2m_column_name()
    return f"""
        SELECT 'role' AS kind, r.name AS name, ra.team_id AS team_id,
               CAST(NULL AS INTEGER) AS content_type_id, CAST(NULL AS VARCHAR(255)) AS object_pk
          FROM {table(RoleAssignment)} ra JOIN {table(Role)} r ON r.id = ra.role_id
         WHERE ra.user_id = {user}
        UNION ALL
        SELECT 'member', CAST(NULL AS VARCHAR(255)), tm.team_id, NULL, NULL
          FROM {table(TeamMembership)} tm WHERE tm.user_id = {user}
        UNION ALL
        SELECT 'grant', p.codename, CAST(NULL AS BIGINT), p.content_type_id, uop.object_pk
          FROM {table(UserObjectPermission)} uop JOIN {table(Permission)} p
            ON p.id = uop.permission_id
         WHERE uop.user_id = {user}
        UNION ALL
        SELECT 'grant', p.codename, CAST(NULL AS BIGINT), p.content_type_id, gop.object_pk
          FROM {table(GroupObjectPermission)} gop JOIN {table(Permission)} p
            ON p.id = gop.permission_id
          JOIN {user_groups} ug ON ug.{group_fk} = gop.group_id
         WHERE ug.{user_fk} = {user}
    """  # noqa: S608 - identifiers from model metadata; the value is a parameter


def object_grants(user, model: type[models.Model]) -> dict[str, frozenset]:
    """Verb -> primary keys of ``model`` objects on which django-guardian grants ``user`` that
    verb (directly or through a group): what ``guardian.shortcuts.get_objects_for_user`` answers
    per verb, read with the user's roles (:func:`user_access`), so list filters carry literal
    ids instead of a subquery compiled on every request."""
    content_type_id = ContentType.objects.get_for_model(model).pk
    pk_field = model._meta.pk
    by_verb = user_access(user).object_grants.get(content_type_id, {})
    return {verb: frozenset(pk_field.to_python(pk) for pk in pks) for verb, pks in by_verb.items()}


def access_forget(user) -> None:
    """Drop the cached roles (after a grant or revocation in the same request)."""
    user.__dict__.pop("_steward_access", None)


@dataclass(frozen=True)
class TeamScope:
    """Where a user may use a verb: everywhere, or in these teams."""

    everywhere: bool
    team_ids: frozenset[int]


def team_scope(user, verb: str) -> TeamScope:
    if not (user.is_authenticated and user.is_active):
        return TeamScope(False, frozenset())
    if user.is_superuser:
        return TeamScope(True, frozenset())
    access = user_access(user)
    if verb in access.global_verbs:
        return TeamScope(True, frozenset())
    return TeamScope(
        False, frozenset(team for team, verbs in access.team_verbs.items() if verb in verbs)
    )


def verb_of(perm: str) -> tuple[str, str]:
    """``"registry.approve_registeredmodel"`` -> ``("approve", "registeredmodel")``."""
    codename = perm.split(".", 1)[-1]
    verb, _, model_name = codename.partition("_")
    return verb, model_name


class RoleBackend:
    """Answers object permissions from roles, team membership and guardian grants, and is the
    last word on governed objects. Model-level questions (no object) are answered from global
    roles only."""

    def authenticate(self, request, **credentials):
        return None

    def has_perm(self, user, perm: str, obj=None) -> bool:
        if not (user.is_active and user.is_authenticated):
            return False
        verb, _ = verb_of(perm)
        if verb not in Verb.values:
            return False
        if obj is None:
            # Model-level questions only about governed models: a role's "change" must never
            # read as "accounts.change_user" in the admin.
            if perm.split(".", 1)[0] + "." + verb_of(perm)[1] not in _governed_labels():
                return False
            return verb in user_access(user).global_verbs
        spec = governed_spec(obj)
        if spec is None:
            return False
        subject = spec.subject(obj)
        if verb in user_access(user).verbs_for_team(spec.owner_team_id(obj)):
            return True
        if verb in _guardian_verbs(user, subject):
            return True
        # The answer is complete (guardian's grants were read with the roles), so Django must
        # not go on to guardian's own backend, which would ask the database again (two queries
        # a question): PermissionDenied ends the search with "no".
        raise PermissionDenied

    def get_all_permissions(self, user, obj=None) -> set[str]:
        return set()


def _guardian_verbs(user, subject) -> set[str]:
    """Verbs django-guardian grants ``user`` on ``subject`` (from :func:`object_grants`)."""
    return {verb for verb, pks in object_grants(user, type(subject)).items() if subject.pk in pks}


def perm_for(verb: str, obj: models.Model) -> str:
    """The permission name for ``verb`` on ``obj``'s subject: ``registry.approve_registeredmodel``
    for a model version."""
    spec = governed_spec(obj)
    subject = spec.subject(obj) if spec else obj
    return f"{subject._meta.app_label}.{verb}_{subject._meta.model_name}"


# --- The one question: may this user do this, to this record, or to which records ----------


def may(user, verb: str, obj: models.Model | None = None) -> bool:
    """Whether ``user`` may ``verb`` ``obj`` (a governed row: asked of its subject, from the
    roles for its team, membership and grants); without ``obj``, whether they hold ``verb``
    everywhere (``may(user, Verb.READ_AUDIT)``)."""
    if obj is None:
        return team_scope(user, verb).everywhere
    return user.has_perm(perm_for(verb, obj), obj)


def visibility(model: type[models.Model], user, verb: str = Verb.VIEW) -> Q | None:
    """The filter of ``model``'s rows ``user`` may ``verb``, from the registered paths: the
    subject's owning team among the teams where they hold ``verb``, or a subject granted to
    them. None means every row (a global role); the grants were read with the roles, so the
    filter carries literal ids and costs no query of its own."""
    spec = _GOVERNED[model]
    scope = team_scope(user, verb)
    if scope.everywhere:
        return None
    visible = Q()
    for path in spec.subjects:
        prefix = f"{path}__" if path else ""
        allowed = Q(**{f"{prefix}{spec.team}__in": scope.team_ids})
        if spec.grants:
            granted = object_grants(user, _subject_model(model, path)).get(verb)
            if granted:
                allowed |= Q(**{f"{path or 'pk'}__in": granted})
        if len(spec.subjects) > 1:
            allowed &= Q(**{f"{path.split('__', 1)[0]}__isnull": False})
        visible |= allowed
    return visible


def _subject_model(model: type[models.Model], path: str) -> type[models.Model]:
    for step in path.split("__") if path else ():
        model = model._meta.get_field(step).related_model
    return model


class GovernedQuerySet(models.QuerySet):
    """The queryset of a governed model: ``Model.objects.restrict(user, verb)`` is every list's
    first step, and leaves out what :func:`may` would refuse."""

    def restrict(self, user, verb: str = Verb.VIEW) -> GovernedQuerySet:
        visible = visibility(self.model, user, verb)
        return self if visible is None else self.filter(visible)


def require(user, verb: str, obj: models.Model) -> None:
    """Refuse unless ``user`` may ``verb`` ``obj``: 404 if they may not even see it (its
    existence is not theirs to know), else 403."""
    if may(user, verb, obj):
        return
    if verb == Verb.VIEW or not may(user, Verb.VIEW, obj):
        raise NotFound(f"{type(obj)._meta.verbose_name.capitalize()} not found.")
    raise Forbidden(f"You may not {verb} {obj}.")


def require_in_team(user, verb: str, team: Team) -> None:
    """Refuse unless ``user`` may ``verb`` things of ``team`` (to create them there)."""
    scope = team_scope(user, verb)
    if scope.everywhere or team.pk in scope.team_ids:
        return
    raise Forbidden(f"You may not {verb} models, datasets or runs of team '{team.slug}'.")


def require_somewhere(user, verb: str) -> None:
    """Refuse unless ``user`` may ``verb`` in at least one team (e.g. to upload an artifact)."""
    scope = team_scope(user, verb)
    if not (scope.everywhere or scope.team_ids):
        raise Forbidden(f"You may not {verb} anything in the registry.")
