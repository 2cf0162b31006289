"""Receivers for django-auth-ldap's signals, connected in ``AccountsConfig.ready()``. They stay
thin: the sync itself is ``accounts.services.directory``.

- ``populate_user`` fires during every LDAP login (``AUTH_LDAP_ALWAYS_UPDATE_USER``), after the
  directory accepted the password and the user's attributes were copied, before the user is
  saved. Raising ``ldap_user.AuthenticationFailed`` there refuses the LDAP login (Django then
  tries the next backend, ModelBackend).
- ``ldap_error`` fires when the directory answers with an error or not at all; the LDAP backend
  then returns None and Django goes on to ModelBackend, so local accounts keep working.
"""

from __future__ import annotations

import logging

import ldap
from django_auth_ldap.backend import ldap_error, populate_user

from accounts.models import User
from accounts.services.directory import directory_mappings_in_use, directory_user_sync

logger = logging.getLogger(__name__)

# The directory could not be asked at all (as opposed to: it answered no).
DIRECTORY_UNREACHABLE_ERRORS = (
    ldap.SERVER_DOWN,
    ldap.CONNECT_ERROR,
    ldap.TIMEOUT,
    ldap.UNAVAILABLE,
    ldap.BUSY,
)
# Fields the directory fills: their values are cut to fit rather than failing the login.
_DIRECTORY_FIELDS = ("first_name", "last_name", "email", "display_name")


def directory_user_populated(sender, user: User, ldap_user, **kwargs) -> None:
    """Bring ``user`` (new or returning) in line with their directory entry and groups."""
    if _is_local_account(user):
        # A local account (a break-glass administrator, say) must not become whoever holds
        # the same uid in the directory. An administrator links it by setting its directory DN.
        logger.warning(
            "directory user %s matches local account %s: not linked, the directory login is "
            "refused (set the account's directory DN to link it)",
            ldap_user.dn,
            user.username,
        )
        raise ldap_user.AuthenticationFailed("matches a local account")
    # Ask for the groups before writing anything: if the directory fails now, nothing changes.
    group_dns = ldap_user.group_dns if directory_mappings_in_use() else ()
    for name in _DIRECTORY_FIELDS:
        value = getattr(user, name) or ""
        setattr(user, name, value[: User._meta.get_field(name).max_length])
    if user.pk is None:
        user.save()  # memberships and roles need its primary key; the backend saves it again
    directory_user_sync(user=user, dn=ldap_user.dn, group_dns=group_dns)


def directory_error_noted(sender, context: str, user, request, exception, **kwargs) -> None:
    """When the directory cannot be reached, say so on the request, so the login page can tell
    the person the directory is down rather than that their password is wrong."""
    if isinstance(exception, DIRECTORY_UNREACHABLE_ERRORS):
        message = f"Directory unreachable: {_describe(exception)}"
        logger.error("%s (during %s)", message, context)
        if request is not None:
            request.steward_directory_error = message
    else:
        # Reachable but refusing: most often the bind account or a search base is wrong.
        logger.error(
            "Directory error during %s: %s (check STEWARD_LDAP_BIND_DN, STEWARD_LDAP_*_BASE)",
            context,
            _describe(exception),
        )


def _is_local_account(user: User) -> bool:
    return bool(user.pk and not user.directory_dn and user.has_usable_password())


def _describe(exception: ldap.LDAPError) -> str:
    """python-ldap's own description ("Can't contact LDAP server"); a timeout comes without one."""
    info = exception.args[0] if exception.args and isinstance(exception.args[0], dict) else {}
    if info.get("desc"):
        return str(info["desc"])
    return "Timed out" if isinstance(exception, ldap.TIMEOUT) else type(exception).__name__


def connect_directory_receivers() -> None:
    populate_user.connect(directory_user_populated, dispatch_uid="steward-directory-sync")
    ldap_error.connect(directory_error_noted, dispatch_uid="steward-directory-error")
