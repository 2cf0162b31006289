from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    """Lifecycle workflow, policies, sign-offs, annotations, documentation and the trail."""

    name = "governance"
    verbose_name = "Governance"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from accounts.access import governed_register
        from governance.models import Annotation, Decision, Policy

        # A decision is governed by its version's model: who may see the version sees it.
        governed_register(
            Decision,
            subject=lambda d: d.version.registered_model,
            owner_team_id=lambda d: d.version.registered_model.owner_team_id,
        )
        for model in (Annotation, Decision, Policy):
            auditlog.register(model)
