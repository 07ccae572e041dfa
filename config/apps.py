from django.apps import AppConfig


class KeystandConfig(AppConfig):
    """The project itself as an app, so its system checks run wherever Django's do."""

    name = "config"
    label = "keystand"
    verbose_name = "Keystand"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the checks)
