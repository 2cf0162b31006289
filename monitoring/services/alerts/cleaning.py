"""Input cleaning shared by the channel and rule services: names, choices, known fields."""

from __future__ import annotations

from core.errors import InvalidInput

MAX_NAME_LENGTH = 100


def name_clean(name: str) -> str:
    """``name`` stripped, or InvalidInput when it is empty or too long."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        message = f"Give a name of 1 to {MAX_NAME_LENGTH} characters."
        raise InvalidInput(message, field_errors={"name": [message]})
    return name


def choice_clean(value: str, allowed, field: str) -> str:
    """``value`` when it is one of ``allowed``, or InvalidInput naming ``field``."""
    if value not in allowed:
        message = f"One of: {', '.join(allowed)}."
        raise InvalidInput(
            f"Unknown {field.replace('_', ' ')} '{value}'.", field_errors={field: [message]}
        )
    return value


def fields_known_require(fields: dict, allowed: frozenset[str]) -> None:
    """Refuse fields a service does not change (a typo must not pass silently)."""
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise InvalidInput(f"These cannot be changed here: {', '.join(unknown)}.")
