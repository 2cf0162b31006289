"""Which team owns the runs and datasets of an OpenLineage namespace.

``STEWARD_OPENLINEAGE_NAMESPACE_TEAMS`` is a JSON object from namespace to team slug, e.g.
``{"airflow-prod": "data-platform", "postgres://warehouse:5432": "finance", "s3://ml-*":
"credit-risk"}``. A key ending in ``*`` matches every namespace starting with what precedes it;
an exact key wins over a prefix, and a longer prefix over a shorter one. A namespace matched by
no key belongs to the team of the token's user.

``namespace_teams_from_env`` is called from settings, so a malformed value stops start-up
(ImproperlyConfigured) instead of sending a team's events elsewhere. It imports no model.
"""

from __future__ import annotations

import re

from django.core.exceptions import ImproperlyConfigured

from config.directory import env_json_object

_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
MAX_KEY = 400


def namespace_teams_from_env(name: str) -> dict[str, str]:
    """The mapping in the environment variable ``name`` ({} when unset or blank)."""
    return namespace_teams_clean(name, env_json_object(name))


def namespace_teams_clean(name: str, value: object) -> dict[str, str]:
    """Check a mapping's shape: non-empty namespace keys (``*`` only at the end, never alone),
    team slugs as values."""
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object of namespace -> team slug.")
    for key, slug in value.items():
        if not key.strip() or len(key) > MAX_KEY:
            raise ImproperlyConfigured(f"{name}: namespace {key!r} is empty or too long.")
        if "*" in key[:-1] or key == "*":
            raise ImproperlyConfigured(
                f"{name}: {key!r}: '*' may only end a namespace prefix, after something."
            )
        if not isinstance(slug, str) or not _SLUG.match(slug):
            raise ImproperlyConfigured(f"{name}: {key!r} must map to a team slug, got {slug!r}.")
    return dict(value)


def namespace_team_slug(mapping: dict[str, str], namespace: str) -> str | None:
    """The slug of the team ``namespace`` belongs to by ``mapping``, or None."""
    if namespace in mapping:
        return mapping[namespace]
    prefixes = [key for key in mapping if key.endswith("*") and namespace.startswith(key[:-1])]
    if not prefixes:
        return None
    return mapping[max(prefixes, key=len)]
