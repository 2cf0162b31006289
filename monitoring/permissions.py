"""Permission questions about monitoring's objects, asked of the model they serve.

Everything monitoring holds (a deployment, its predictions, checks, alerts, KPIs, rules) is
governed by the registered model behind it. django-guardian refuses a ``registry.*`` permission
asked about an object of another app, so the question is put to the model itself."""

from __future__ import annotations

from accounts.models import User
from core.errors import Forbidden, NotFound
from registry.models import ModelVersion, RegisteredModel


def model_of(obj) -> RegisteredModel:
    """The registered model that governs ``obj``."""
    if isinstance(obj, RegisteredModel):
        return obj
    if isinstance(obj, ModelVersion):
        return obj.registered_model
    if hasattr(obj, "model_version"):
        return obj.model_version.registered_model
    if getattr(obj, "deployment_id", None) is not None:
        return obj.deployment.model_version.registered_model
    if getattr(obj, "registered_model_id", None) is not None:
        return obj.registered_model
    raise TypeError(f"{type(obj).__name__} is not governed by a model")


def may(user: User, verb: str, obj) -> bool:
    model = model_of(obj)
    return user.has_perm(f"registry.{verb}_registeredmodel", model)


def may_any(user: User, verbs, obj) -> bool:
    return any(may(user, verb, obj) for verb in verbs)


def require_any(user: User, verbs, obj) -> None:
    """Refuse unless ``user`` may do one of ``verbs`` to ``obj``: 404 when they may not even
    see it (its existence is not theirs to know), else 403."""
    if may_any(user, verbs, obj):
        return
    name = type(obj)._meta.verbose_name
    if not may(user, "view", obj):
        raise NotFound(f"{name.capitalize()} not found.")
    raise Forbidden(f"You may not {' or '.join(verbs)} {name} '{obj}'.")


def require_on(user: User, verb: str, obj) -> None:
    require_any(user, (verb,), obj)
