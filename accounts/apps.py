from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and access"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from accounts.models import Team, TeamMembership, User

        auditlog.register(User, exclude_fields=["password", "last_login"])
        auditlog.register(Team)
        auditlog.register(TeamMembership)
