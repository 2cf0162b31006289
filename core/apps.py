from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        import core.api.schema  # noqa: F401 - registers OpenAPI authentication extensions
        import core.outbox  # noqa: F401 - connects the task signals that finish outbox rows
