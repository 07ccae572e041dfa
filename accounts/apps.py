from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from allauth.account.signals import password_reset, user_signed_up
        from django.contrib import messages

        def welcome(request, user, **kwargs) -> None:
            messages.success(request, "Welcome to Keystand! Create your first access token below.")

        user_signed_up.connect(welcome, weak=False, dispatch_uid="keystand-welcome")
        password_reset.connect(_verify_the_only_address, dispatch_uid="keystand-reset-verifies")


def _verify_the_only_address(request, user, **kwargs) -> None:
    """A password set through a mailed link proves the inbox it was mailed to. With one
    address on the account that can only be that one; with two (a change pending) we cannot
    tell which, so nothing is marked."""
    from allauth.account.models import EmailAddress

    addresses = list(EmailAddress.objects.filter(user=user))
    if len(addresses) != 1 or addresses[0].verified:
        return
    # Accounts from before allauth may share an address; only one of them may hold it verified.
    if not EmailAddress.objects.filter(email__iexact=addresses[0].email, verified=True).exists():
        addresses[0].verified = True
        addresses[0].save(update_fields=["verified"])
