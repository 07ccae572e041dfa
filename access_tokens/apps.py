from django.apps import AppConfig


class AccessTokensConfig(AppConfig):
    name = "access_tokens"
    # Not "Personal access tokens": the admin's breadcrumb would say that twice (app, then model).
    verbose_name = "Access tokens"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        # checks registers the settings checks; schema, the token schemes' OpenAPI
        # descriptions with drf-spectacular.
        from . import checks, schema  # noqa: F401
        from .logging import protect_server_loggers
        from .reauth import record_sign_in

        protect_server_loggers()
        # The default re-authentication check without allauth reads what this records.
        user_logged_in.connect(record_sign_in, dispatch_uid="access_tokens.record_sign_in")
