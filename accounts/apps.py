from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from allauth.account.signals import user_signed_up
        from django.contrib import messages

        def welcome(request, user, **kwargs) -> None:
            messages.success(request, "Welcome to Keystand! Create your first access token below.")

        user_signed_up.connect(welcome, weak=False, dispatch_uid="keystand-welcome")
