from allauth.account.adapter import get_adapter
from allauth.account.forms import ChangePasswordForm as AllauthChangePasswordForm
from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.models import EmailAddress
from django import forms
from django.contrib.auth import get_user_model


class LoginForm(AllauthLoginForm):
    """allauth's sign-in form with a visible label instead of a placeholder."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        login = self.fields["login"]
        login.label = "Username or email"
        login.widget.attrs.pop("placeholder", None)
        login.widget.attrs["autocomplete"] = "username"
        self.fields["password"].widget.attrs.pop("placeholder", None)


class ChangePasswordForm(AllauthChangePasswordForm):
    """allauth's change-password form, with the current password checked the way a sign-in is.

    A wrong current password counts as a failed sign-in for the account and the address, so a
    stolen session cannot be used to guess the password beyond the sign-in limits.
    """

    def clean_oldpassword(self) -> str:
        password = self.cleaned_data.get("oldpassword", "")
        adapter = get_adapter()
        # reauthenticate() goes through adapter.authenticate(): it counts a failure against
        # the limits, refuses once they are reached, and forgives this attempt on success.
        if not adapter.reauthenticate(self.user, password):
            raise adapter.validation_error("enter_current_password")
        return password


class InviteForm(forms.Form):
    """What an operator types to invite someone: a username and an email address."""

    username = forms.CharField(max_length=150)
    email = forms.EmailField(help_text="The link to choose a password goes here.")

    def clean_username(self) -> str:
        username = get_adapter().clean_username(self.cleaned_data["username"])
        return username

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        taken = get_user_model().objects.filter(email__iexact=email).exists()
        if taken or EmailAddress.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email address already exists.")
        return email
