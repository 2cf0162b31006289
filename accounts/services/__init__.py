"""Every write on accounts goes through one of these functions."""

from accounts.services.teams import (
    is_administrator,
    require_administrator,
    role_assign,
    role_describe,
    role_get,
    role_revoke,
    team_add_member,
    team_create,
    team_remove_member,
    user_create,
)

__all__ = [
    "is_administrator",
    "require_administrator",
    "role_assign",
    "role_describe",
    "role_get",
    "role_revoke",
    "team_add_member",
    "team_create",
    "team_remove_member",
    "user_create",
]
