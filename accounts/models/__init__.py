from accounts.models.identities import ExternalIdentity
from accounts.models.login_events import LoginEvent
from accounts.models.people import Team, TeamMembership, User
from accounts.models.roles import Role, RoleAssignment
from accounts.models.saml import SamlMessageUse
from accounts.models.tokens import ApiToken

__all__ = [
    "ApiToken",
    "ExternalIdentity",
    "LoginEvent",
    "Role",
    "RoleAssignment",
    "SamlMessageUse",
    "Team",
    "TeamMembership",
    "User",
]
