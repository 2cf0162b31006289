from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Registry"

    def ready(self) -> None:
        import registry.services.lineage  # noqa: F401 - registers the registry's lineage kinds
        from core.audit import auditlog_register
        from core.content_store import content_store
        from registry.permissions import register_governed_models
        from registry.services.artifacts import artifact_stored_files

        register_governed_models()
        from registry import models as m

        auditlog_register(m.RegisteredModel, m2m_fields={"tags"})
        auditlog_register(m.Dataset, m2m_fields={"tags"})
        auditlog_register(m.DatasetVersion, m2m_fields={"derived_from"})
        auditlog_register(m.ModelRoleAssignment)
        for model in (m.ModelVersion, m.ModelVersionDataset, m.Run, m.RunInput, m.Artifact, m.Tag):
            auditlog_register(model)
        # Alias moves are rows of their own (ModelAliasMove) and chain events; the change log
        # records the alias rows too, like every governed row.
        auditlog_register(m.ModelAlias)
        content_store.register("artifacts", artifact_stored_files)
