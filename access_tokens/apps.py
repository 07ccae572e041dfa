from django.apps import AppConfig


class AccessTokensConfig(AppConfig):
    name = "access_tokens"
    verbose_name = "Personal access tokens"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the OpenAPI descriptions of the token schemes with drf-spectacular.
        from . import schema  # noqa: F401
        from .logging import protect_server_loggers

        protect_server_loggers()
