"""Aliases of registered models (``churn@champion``) as governed decisions.

An alias points at one version of its model. A protected alias (``STEWARD_PROTECTED_ALIASES``:
``champion``, ``production``, ``prod`` by default, any case) names what serves, so it may point
only at an approved or production version, and only someone holding the deploy verb on that
version (and, with an API token, the ``deploy`` scope) may move or remove it. Any other alias
needs the verb that changes the model (contributors of the owning team, administrators) and
the ``write`` scope. Every move is a row (:class:`registry.models.ModelAliasMove`) and an event
in the audit chain with who, why, from and to. When a version leaves approved / production for
any other state, the protected aliases on it are cleared by that decision.
"""

from __future__ import annotations

from collections.abc import Collection

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.access import may, require
from accounts.choices import TokenScope, Verb
from accounts.models import User
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.eventlog import audit_event_append

# transitions imports this module only inside decision_effects_apply, so no import cycle.
from governance.services.transitions import motivation_clean, server_request_id
from registry.choices import VersionStatus
from registry.models import ModelAlias, ModelAliasMove, ModelVersion, RegisteredModel
from registry.models.aliases import alias_name_is_protected, validate_alias_name

# The states a protected alias may point at; leaving them clears the alias.
SERVABLE_STATES = frozenset({VersionStatus.APPROVED, VersionStatus.PRODUCTION})


def alias_is_protected(alias: str) -> bool:
    """Is ``alias`` one of the configured protected aliases (compared without case, so
    ``Champion`` is no way around ``champion``)?"""
    return alias_name_is_protected(alias)


def alias_name_clean(alias: str | None) -> str:
    """``alias`` if it is a valid alias name, else ``InvalidInput`` (400) saying why."""
    alias = alias or ""
    try:
        validate_alias_name(alias)
    except ValidationError as exc:
        message = " ".join(exc.messages)
        raise InvalidInput(
            f"Invalid alias name {alias[:60]!r}: {message}", field_errors={"alias": exc.messages}
        ) from None
    return alias


@transaction.atomic
def model_alias_set(
    *,
    actor: User,
    model: RegisteredModel,
    alias: str,
    version: ModelVersion,
    motivation: str = "",
    token_scopes: Collection[str] | None = None,
) -> ModelAlias:
    """Point ``alias`` of ``model`` at ``version`` (create it, or move it), as ``actor``, with a
    written ``motivation``.

    Refused, changing nothing: a model the actor may not see (404); a bad alias name, a version
    of another model or a missing motivation (400); the actor or token lacking the verb or
    scope the alias needs (403); a protected alias and a version that is not approved or in
    production (409). Pointing an alias at the version it already names changes nothing and
    records nothing. The version and the model rows are locked, so two moves of its aliases
    queue, and a move never races a decision on the version."""
    require(actor, Verb.VIEW, model)
    alias = alias_name_clean(alias)
    if version.registered_model_id != model.pk:
        raise InvalidInput(
            f"That version is not a version of {model.name}.",
            field_errors={"version": [f"Not a version of {model.name}."]},
        )
    # The version, then its model: the order in which a transition takes them (it locks the
    # version, then the model to clear its aliases). The version's state is read under its
    # lock, so a concurrent deprecation either sees this alias or refuses it here.
    version = (
        ModelVersion.objects.select_for_update(of=("self",))
        .select_related("registered_model")
        .get(pk=version.pk)
    )
    model = _model_lock(model)
    protected = alias_is_protected(alias)
    _require_may_move(actor, model, alias, protected, token_scopes)
    if protected and version.status not in SERVABLE_STATES:
        raise Conflict(
            f"'{alias}' is a protected alias: it may point only at an approved or production "
            f"version, and {model.name} v{version.version} is "
            f"{version.get_status_display().lower()}."
        )
    current = (
        ModelAlias.objects.filter(registered_model=model, name=alias)
        .select_related("version")
        .first()
    )
    if current is not None and current.version_id == version.pk:
        return current
    motivation = motivation_clean(motivation)
    from_number = None
    if current is None:
        current = ModelAlias(registered_model=model, name=alias)
    else:
        from_number = current.version.version
    current.version = version
    current.set_by = actor
    current.save()
    _move_record(
        actor=actor,
        model=model,
        alias=alias,
        from_number=from_number,
        to_number=version.version,
        protected=protected,
        motivation=motivation,
    )
    return current


@transaction.atomic
def model_alias_delete(
    *,
    actor: User,
    model: RegisteredModel,
    alias: str,
    motivation: str = "",
    token_scopes: Collection[str] | None = None,
) -> None:
    """Remove ``alias`` from ``model``, as ``actor``, with a written ``motivation``. The same
    rules as :func:`model_alias_set` decide who may (a protected alias needs the deploy verb on
    the version it names); an alias the model does not have is a 404. Only the model row is
    locked: a removal writes nothing that refers to the version."""
    require(actor, Verb.VIEW, model)
    alias = alias_name_clean(alias)
    model = _model_lock(model)
    current = (
        ModelAlias.objects.filter(registered_model=model, name=alias)
        .select_related("version__registered_model")
        .first()
    )
    if current is None:
        raise NotFound(f"{model.name} has no alias '{alias}'.")
    protected = alias_is_protected(alias)
    _require_may_move(actor, model, alias, protected, token_scopes)
    motivation = motivation_clean(motivation)
    _alias_remove(actor=actor, alias=current, protected=protected, motivation=motivation)


def aliases_clear_after_decision(decision) -> list[str]:
    """Called for every decision (``decision_effects_apply``): when it takes a version out of
    approved / production into any other state, the protected aliases on that version are
    removed, each one a move signed by the decision's actor. Returns the names cleared."""
    if decision.from_state not in SERVABLE_STATES or decision.to_state in SERVABLE_STATES:
        return []
    version = decision.version
    RegisteredModel.objects.select_for_update().filter(pk=version.registered_model_id).first()
    cleared = []
    on_version = ModelAlias.objects.filter(version=version).select_related(
        "version__registered_model", "registered_model"
    )
    for alias in on_version.order_by("name"):
        if not alias_is_protected(alias.name):
            continue
        _alias_remove(
            actor=decision.actor,
            alias=alias,
            protected=True,
            motivation=f"cleared: version left {decision.from_state} by {decision.action}",
            decision=decision.pk,
        )
        cleared.append(alias.name)
    return cleared


def model_alias_remove_for_deletion(*, actor: User, alias: ModelAlias, motivation: str) -> None:
    """Remove an alias because the version it names is being deleted (the deletion service
    has checked who may): one move row and one chain event like any other removal."""
    _alias_remove(
        actor=actor,
        alias=alias,
        protected=alias_is_protected(alias.name),
        motivation=motivation,
    )


# --- helpers -----------------------------------------------------------------------------------


def _model_lock(model: RegisteredModel) -> RegisteredModel:
    return RegisteredModel.objects.select_for_update().get(pk=model.pk)


def may_move_alias(user: User, model: RegisteredModel, *, protected: bool) -> bool:
    """Whether ``user`` may move an alias of ``model`` (the alias form offers what this says):
    a protected alias needs the deploy verb, any other the change verb."""
    return may(user, Verb.DEPLOY if protected else Verb.CHANGE, model)


def _require_may_move(
    actor: User,
    model: RegisteredModel,
    alias: str,
    protected: bool,
    token_scopes: Collection[str] | None,
) -> None:
    """403 unless ``actor`` (and their token) may move ``alias`` (:func:`may_move_alias`)."""
    if protected:
        if not may_move_alias(actor, model, protected=True):
            raise Forbidden(
                f"'{alias}' is a protected alias: only someone who may deploy versions of "
                f"{model.name} may move it."
            )
        needed = TokenScope.DEPLOY
    else:
        if not may_move_alias(actor, model, protected=False):
            raise Forbidden(f"You may not change the aliases of {model.name}.")
        needed = TokenScope.WRITE
    if token_scopes is not None and needed not in token_scopes:
        kind = "protected alias" if protected else "alias"
        raise Forbidden(
            f"This API token lacks the '{needed}' scope needed to move the {kind} '{alias}'."
        )


def _alias_remove(
    *,
    actor: User,
    alias: ModelAlias,
    protected: bool,
    motivation: str,
    decision: int | None = None,
) -> None:
    model = alias.registered_model
    from_number = alias.version.version
    alias.delete()
    _move_record(
        actor=actor,
        model=model,
        alias=alias.name,
        from_number=from_number,
        to_number=None,
        protected=protected,
        motivation=motivation,
        decision=decision,
    )


def _move_record(
    *,
    actor: User,
    model: RegisteredModel,
    alias: str,
    from_number: int | None,
    to_number: int | None,
    protected: bool,
    motivation: str,
    decision: int | None = None,
) -> ModelAliasMove:
    """The move as a row and as an event in the audit chain."""
    move = ModelAliasMove.objects.create(
        registered_model=model,
        alias=alias,
        from_version=from_number,
        to_version=to_number,
        protected=protected,
        actor=actor,
        motivation=motivation,
        request_id=server_request_id(),
    )
    named = to_number if to_number is not None else from_number
    data = {
        "alias": alias,
        "from": from_number,
        "to": to_number,
        "protected": protected,
        "motivation": motivation,
        "move": move.pk,
    }
    if decision is not None:
        data["decision"] = decision
    audit_event_append(
        actor=actor,
        action="model.alias_set" if to_number is not None else "model.alias_remove",
        subject=model,
        scope_model=model.name,
        scope_version=f"{model.name}/{named}",
        data=data,
    )
    return move
