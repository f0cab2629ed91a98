from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self):
        # Connects the scrubbing of import history (and of the import records) to contacts'
        # person_forgotten signal.
        from . import journal, privacy  # noqa: F401
