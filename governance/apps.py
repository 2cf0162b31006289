from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    """Lifecycle workflow, policies, sign-offs, annotations and documentation (issue 4 onwards)."""

    name = "governance"
    verbose_name = "Governance"
