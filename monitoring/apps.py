from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """Deployments, prediction logging, baselines, checks, KPIs, health and alerts."""

    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from accounts.access import governed_register
        from core.audit import auditlog_register
        from monitoring import models as m
        from registry.choices import LineageKind
        from registry.lineage_kinds import lineage_kind_register

        # Everything monitoring holds is governed by the model its deployment serves: who may
        # see the model sees its deployments, predictions, checks and alerts; who may deploy
        # it manages them.
        def model_of(d):
            return d.model_version.registered_model

        # Their own rows answer no model-level question (the admin keeps Django's permissions
        # for rules, KPIs and baselines): only the rows already governed that way do.
        via_version = "model_version__registered_model"
        via_deployment = f"deployment__{via_version}"
        governed_register(m.Deployment, subject=via_version, grants=True)
        for child in (m.Alert, m.CheckResult, m.Prediction, m.KpiValue):
            governed_register(child, subject=via_deployment, grants=True)
        governed_register(m.BaselineProfile, subject=via_version, grants=True, model_level=False)
        # A rule or a KPI is for one deployment or for every deployment of one model.
        for either in (m.AlertRule, m.Kpi):
            governed_register(
                either, subject=(via_deployment, "registered_model"), grants=True, model_level=False
            )
        lineage_kind_register(
            m.Deployment,
            kind=LineageKind.DEPLOYMENT,
            key=lambda d: d.name,
            label=lambda d: f"{d.name} ({d.get_environment_display()}, {d.get_mode_display()})",
            owner_team_id=lambda d: model_of(d).owner_team_id,
            registered_model_id=lambda d: d.model_version.registered_model_id,
        )
        from monitoring.demo import monitoring_demo_seed
        from registry.demo_hooks import demo_hook_register

        demo_hook_register(monitoring_demo_seed)
        from monitoring.version_panel import monitoring_panels_register

        monitoring_panels_register()
        from governance.documents.context import document_context_provider_register
        from monitoring.documents import monitoring_document_context

        document_context_provider_register("monitoring", monitoring_document_context)
        for model in (m.Deployment, m.BaselineProfile, m.Kpi, m.AlertRule, m.Alert, m.AlertEvent):
            auditlog_register(model)
        # A Slack webhook URL is a credential: the change log keeps that it changed, not it.
        auditlog_register(m.AlertChannel, exclude_fields=["signing_secret"], mask_fields=["target"])
