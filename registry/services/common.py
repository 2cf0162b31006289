"""Helpers the registry services share."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import models

from core.errors import Conflict, InvalidInput
from registry.models import Tag


def full_clean_or_invalid(instance: models.Model, *, exclude: Iterable[str] = ()) -> None:
    """Run the model's field validators and turn failures into a 400 with field errors.
    Foreign keys set from a row already read (the service holds the object) are not looked up
    again: the database's foreign key constraint still holds them."""
    loaded = [
        field.name
        for field in instance._meta.concrete_fields
        if field.is_relation and field.is_cached(instance) and field.get_cached_value(instance)
    ]
    try:
        instance.full_clean(
            exclude=[*exclude, *loaded], validate_unique=False, validate_constraints=False
        )
    except ValidationError as exc:
        errors = {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
        first = next(iter(errors.items()))
        raise InvalidInput(f"{first[0]}: {first[1][0]}", field_errors=errors) from exc


def tags_resolve(names: Iterable[str]) -> list[Tag]:
    """Return Tag rows for ``names``, creating the missing ones."""
    tags = []
    for name in dict.fromkeys(n.strip().lower() for n in names if n and n.strip()):
        tag = Tag(name=name)
        full_clean_or_invalid(tag)
        tags.append(Tag.objects.get_or_create(name=name)[0])
    return tags


def name_taken(kind: str, name: str) -> Conflict:
    """The refusal of a name that is already registered. Names are unique across all teams, so
    a 409 cannot be avoided; it says only that the name is taken, in the same words whether the
    holder is the caller's own record or one of a team they cannot see, and names no team,
    owner or date."""
    return Conflict(
        f"A {kind} named '{name}' already exists; choose another name.",
        field_errors={"name": ["Already taken: choose another name."]},
    )
