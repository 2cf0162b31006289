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
    # Read the audit: the hash-chained trail, the login audit and who holds which role. Only
    # ever held globally (``accounts.constants.GLOBAL_ONLY_VERBS``). One word, as codenames
    # are "<verb>_<model>".
    READ_AUDIT = "audit", "Read the audit"


class GrantSource(models.TextChoices):
    """Who keeps a membership or role assignment: a person, or the directory sync (which
    removes what it granted when the directory no longer says so)."""

    MANUAL = "manual", "Granted in Steward"
    LDAP = "ldap", "Directory group"
    # A group claim of the OpenID Connect provider (STEWARD_OIDC_GROUP_ROLES / _TEAMS).
    OIDC = "oidc", "Identity provider group (OIDC)"
    # An attribute of the SAML identity provider (STEWARD_SAML_GROUP_ROLES / _TEAMS).
    SAML = "saml", "Identity provider group (SAML)"


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
    """How someone got in. A single sign-on is recorded as ``oidc:<provider>`` (see
    :func:`accounts.sso.config.sso_login_method`), a value outside these choices so that each
    provider is told apart; ``SSO`` is kept for rows written before providers were named."""

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


class SignOnRefusal(models.TextChoices):
    """Why a single sign-on was refused; the login audit's detail starts with the value."""

    BAD_STATE = "bad_state", "Unknown or reused state (not a sign-on this browser started)"
    PROVIDER_ERROR = "provider_error", "The provider answered with an error"
    PROVIDER_UNREACHABLE = "provider_unreachable", "The provider could not be reached"
    CODE_REFUSED = "code_refused", "The provider refused the code (replayed or expired)"
    MALFORMED = "malformed", "Not a well-formed token"
    SIGNATURE = "signature", "Bad signature"
    ISSUER = "issuer", "Wrong issuer"
    AUDIENCE = "audience", "Wrong audience"
    EXPIRED = "expired", "Expired token"
    NONCE = "nonce", "Wrong nonce"
    CLAIMS = "claims", "A required claim is missing or malformed"
    UNKNOWN_USER = "unknown_user", "Unknown user, and accounts are not created automatically"
    EXISTING_ACCOUNT = "existing_account", "An account of that name exists and is not linked"
    INACTIVE = "inactive", "The linked account is deactivated"
    # SAML: an assertion or response presented a second time.
    REPLAY = "replay", "Assertion already used (replay)"
    UNSOLICITED = "unsolicited", "A response to no sign-on this browser started"
