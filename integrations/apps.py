from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Protocols other tools speak, translated into Steward's own services. Each protocol
    registers its pieces (audit, page panels, lineage exports) through the earlier apps'
    plug-in points; no app imports this one."""

    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from integrations.mlflow.registry.plugins import mlflow_registry_plugins_register
        from integrations.mlflow.tracking.plugins import mlflow_tracking_plugins_register
        from integrations.openlineage.plugins import openlineage_plugins_register
        from integrations.prov.plugins import prov_plugins_register

        openlineage_plugins_register()
        prov_plugins_register()
        from integrations.mlflow.errors import mlflow_error_format_register

        mlflow_error_format_register()
        mlflow_tracking_plugins_register()
        mlflow_registry_plugins_register()
        from integrations.mlflow.demo import mlflow_demo_seed
        from registry.demo_hooks import demo_hook_register

        # The demo's customer-churn model arrives through the real MLflow client.
        demo_hook_register(mlflow_demo_seed)
