from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self):
        # Connects the scrubbing of import history to contacts' person_forgotten signal.
        from . import privacy  # noqa: F401
