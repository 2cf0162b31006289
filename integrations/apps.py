from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Protocols other tools speak, translated into Steward's own services. Each protocol
    registers its pieces (audit, page panels, lineage exports) through the earlier apps'
    plug-in points; no app imports this one."""

    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from integrations.openlineage.plugins import openlineage_plugins_register
        from integrations.prov.plugins import prov_plugins_register

        openlineage_plugins_register()
        prov_plugins_register()
