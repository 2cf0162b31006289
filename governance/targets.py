"""Finding an annotation's target by its natural key, as the user may see it (else 404)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from accounts.models import User
from core.errors import NotFound
from governance.models import Decision
from registry import selectors as registry_selectors


def _split(key: str) -> tuple[str, int]:
    name, _, number = key.rpartition("/")
    if not name or not number.isdigit():
        raise NotFound(f"'{key}' is not of the form name/number.")
    return name, int(number)


def annotation_target_resolve(user: User, target_type: str, key: str) -> models.Model:
    found = None
    if target_type == "registered_model":
        found = registry_selectors.registered_model_list(user).filter(name=key).first()
    elif target_type == "model_version":
        name, number = _split(key)
        found = (
            registry_selectors.model_version_list(user)
            .filter(registered_model__name=name, version=number)
            .first()
        )
    elif target_type == "dataset":
        found = registry_selectors.dataset_list(user).filter(name=key).first()
    elif target_type == "dataset_version":
        name, number = _split(key)
        found = (
            registry_selectors.dataset_version_list(user)
            .filter(dataset__name=name, version=number)
            .first()
        )
    elif target_type == "run":
        try:
            found = registry_selectors.run_list(user).filter(uuid=key).first()
        except ValidationError:  # a malformed UUID is simply not found
            found = None
    elif target_type == "decision" and key.isdigit():
        visible = registry_selectors.model_version_list(user).values("pk")
        found = Decision.objects.filter(pk=int(key), version__in=visible).first()
    if found is None:
        raise NotFound(f"No {target_type.replace('_', ' ')} '{key}' that you may see.")
    return found
