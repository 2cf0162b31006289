from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    """Lifecycle workflow, policies, sign-offs, annotations, documentation and the trail."""

    name = "governance"
    verbose_name = "Governance"

    def ready(self) -> None:
        from accounts.access import governed_register
        from core.audit import auditlog_register
        from core.content_store import content_store
        from governance.documents.stored_files import document_stored_files
        from governance.models import (
            Annotation,
            Decision,
            DocumentTemplate,
            FreeTextSection,
            Policy,
        )

        # A decision is governed by its version's model: who may see the version sees it.
        governed_register(Decision, subject="version__registered_model", grants=True)
        for model in (Annotation, Decision, Policy, DocumentTemplate, FreeTextSection):
            auditlog_register(model)
        # Documents' PDFs are kept by their SHA-256: verify_artifacts re-hashes them.
        content_store.register("documents", document_stored_files)
        self._plug_into_registry()
        self._plug_in_documents()

    def _plug_in_documents(self) -> None:
        """Documentation checks the policy's required documents, and shows its panel."""
        import governance.admin_documents  # noqa: F401  (registers the documentation admin)
        from governance.documents.selectors import documents_required_check, documents_written_check
        from governance.documents_panel import TEMPLATE, documents_panel_context
        from governance.guards import (
            _document_checkers,
            _written_checkers,
            document_checker_register,
            written_checker_register,
        )
        from registry.panels import version_panel_register

        # ready() may run more than once in a process; register the checker once.
        if documents_required_check not in _document_checkers:
            document_checker_register(documents_required_check)
        if documents_written_check not in _written_checkers:
            written_checker_register(documents_written_check)
        version_panel_register(TEMPLATE, documents_panel_context)

    def _plug_into_registry(self) -> None:
        """The registry offers registration points for what it shows but may not import: the
        review section of its version page, and the governance part of the demo."""
        from governance.demo import governance_demo_seed
        from governance.review_panel import TEMPLATE, review_panel_context
        from registry.demo_hooks import demo_hook_register
        from registry.panels import version_panel_register

        version_panel_register(TEMPLATE, review_panel_context)
        # Open findings and policy checks in the version page's evidence summary.
        from governance.evidence_facts import version_evidence_facts
        from registry.evidence import evidence_fact_register

        evidence_fact_register(version_evidence_facts)
        demo_hook_register(governance_demo_seed)
        # The alias form of the model page.
        from governance.alias_panel import TEMPLATE as ALIAS_TEMPLATE
        from governance.alias_panel import alias_panel_context
        from registry.panels import model_panel_register

        model_panel_register(ALIAS_TEMPLATE, alias_panel_context)
        # Tier and team of a model with versions under review change only by reclassification.
        from governance.services.reclassify import reclassification_gate
        from registry.change_gates import model_change_gate_register

        model_change_gate_register(reclassification_gate)
