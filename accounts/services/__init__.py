"""Every write on accounts goes through one of these functions."""

from accounts.services.login_audit import (
    login_event_record,
    login_failure_record,
    login_success_record_daily,
    login_throttle_check,
    login_throttled,
)
from accounts.services.teams import (
    is_administrator,
    require_administrator,
    role_assign,
    role_describe,
    role_get,
    role_revoke,
    team_add_member,
    team_create,
    team_delete,
    team_remove_member,
    user_create,
)
from accounts.services.tokens import (
    TokenRefused,
    token_authenticate,
    token_create,
    token_revoke,
)

__all__ = [
    "TokenRefused",
    "is_administrator",
    "login_event_record",
    "login_failure_record",
    "login_success_record_daily",
    "login_throttle_check",
    "login_throttled",
    "require_administrator",
    "role_assign",
    "role_describe",
    "role_get",
    "role_revoke",
    "team_add_member",
    "team_create",
    "team_delete",
    "team_remove_member",
    "token_authenticate",
    "token_create",
    "token_revoke",
    "user_create",
]
