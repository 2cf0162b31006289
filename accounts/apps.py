from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and access"

    def ready(self) -> None:
        from auditlog.registry import auditlog
        from guardian.models import UserObjectPermission

        from accounts.models import Role, RoleAssignment, Team, TeamMembership, User

        auditlog.register(User, exclude_fields=["password", "last_login"])
        auditlog.register(Team)
        auditlog.register(TeamMembership)
        # Who granted what to whom, and when: every grant and revocation is an audit entry.
        auditlog.register(Role)
        auditlog.register(RoleAssignment)
        auditlog.register(UserObjectPermission)
