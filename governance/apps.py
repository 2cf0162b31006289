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
        self._plug_into_registry()

    def _plug_into_registry(self) -> None:
        """The registry offers registration points for what it shows but may not import: the
        review section of its version page, and the governance part of the demo."""
        from governance.demo import governance_demo_seed
        from governance.review_panel import TEMPLATE, review_panel_context
        from registry.demo_hooks import demo_hook_register
        from registry.panels import version_panel_register

        version_panel_register(TEMPLATE, review_panel_context)
        demo_hook_register(governance_demo_seed)
