"""Enumerations of accounts and access."""

from __future__ import annotations

from django.db import models


class RoleName(models.TextChoices):
    """The governance roles. What each may do is ``accounts.constants.ROLE_VERBS``."""

    CONTRIBUTOR = "contributor", "Contributor"
    VALIDATOR = "validator", "Validator"
    MANAGER = "manager", "Manager"
    ADMINISTRATOR = "administrator", "Administrator"
    AUDITOR = "auditor", "Auditor"
    GATEWAY = "gateway", "Serving gateway"


class Verb(models.TextChoices):
    """What a permission allows on a governed object; the permission codename is
    ``<verb>_<model>``, e.g. ``approve_registeredmodel``."""

    VIEW = "view", "View"
    CHANGE = "change", "Change"
    SUBMIT = "submit", "Submit"
    VALIDATE = "validate", "Validate"
    APPROVE = "approve", "Approve"
    DEPLOY = "deploy", "Deploy"
    ANNOTATE = "annotate", "Annotate"
    ARCHIVE = "archive", "Archive"
    # Change a model's risk tier or owning team while versions are under review or in
    # production: a governed decision of its own.
    CLASSIFY = "classify", "Reclassify"
    # Write production evidence (predictions, ground truth, KPI values): a serving gateway's.
    LOG = "log", "Log predictions"


class GrantSource(models.TextChoices):
    """Who keeps a membership or role assignment: a person, or the directory sync (which
    removes what it granted when the directory no longer says so)."""

    MANUAL = "manual", "Granted in Steward"
    LDAP = "ldap", "Directory group"


class TokenScope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"
    SUBMIT = "submit", "Submit versions"
    VALIDATE = "validate", "Validate versions"
    APPROVE = "approve", "Approve versions"
    DEPLOY = "deploy", "Deploy versions"
    ANNOTATE = "annotate", "Annotate"
    CLASSIFY = "classify", "Reclassify models under review"


class LoginMethod(models.TextChoices):
    PASSWORD = "password", "Password"
    LDAP = "ldap", "LDAP"
    SSO = "sso", "Single sign-on"
    TOKEN = "token", "API token"
    LOGOUT = "logout", "Logout"


class LoginOutcome(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"
    THROTTLED = "throttled", "Throttled"
    ERROR = "error", "Directory error"
