from django.apps import AppConfig


class AccessTokensConfig(AppConfig):
    name = "access_tokens"
    # Not "Personal access tokens": the admin's breadcrumb would say that twice (app, then model).
    verbose_name = "Access tokens"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the OpenAPI descriptions of the token schemes with drf-spectacular.
        from . import checks, schema  # noqa: F401  (checks registers the settings checks)
        from .logging import protect_server_loggers

        protect_server_loggers()
