from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and access"

    def ready(self) -> None:
        from guardian.models import UserObjectPermission

        from accounts.ldap_signals import connect_directory_receivers
        from accounts.models import ApiToken, Role, RoleAssignment, Team, TeamMembership, User
        from accounts.receivers import connect_login_receivers
        from core.audit import auditlog_register

        auditlog_register(User, exclude_fields=["password", "last_login"])
        auditlog_register(Team)
        auditlog_register(TeamMembership)
        # Who granted what to whom, and when: every grant and revocation is an audit entry.
        auditlog_register(Role)
        auditlog_register(RoleAssignment)
        auditlog_register(UserObjectPermission)
        # Who created or revoked which token. Never the hash; last use is bookkeeping, not a
        # change (and would otherwise write an entry a minute per busy token).
        auditlog_register(
            ApiToken, exclude_fields=["secret_hash", "last_used_at", "last_used_ip", "updated_at"]
        )
        connect_login_receivers()
        # LDAP logins: sync user, teams and roles; note an unreachable directory on the request.
        connect_directory_receivers()
