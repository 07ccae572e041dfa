from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, UserCreationForm
from django.core.exceptions import ValidationError

from . import limits


class SignupForm(UserCreationForm):
    """Sign up with a username, an email address and a password."""

    email = forms.EmailField(
        required=True,
        help_text="Used for notices about your tokens, such as one about to expire.",
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email address already exists.")
        return email


class LoginForm(AuthenticationForm):
    """Django's sign-in form, refused for a while after repeated failures (accounts.limits)."""

    error_messages = {**AuthenticationForm.error_messages, "locked": "%(message)s"}

    def clean(self):
        username = self.cleaned_data.get("username")
        if not username or not self.cleaned_data.get("password"):
            return super().clean()
        # Checked before the password, so a locked account costs no password hashing
        # and a right guess during the lock reveals nothing.
        wait = limits.locked_for(self.request, username)
        if wait:
            raise ValidationError(
                self.error_messages["locked"],
                code="locked",
                params={"message": limits.locked_message(wait)},
            )
        try:
            cleaned = super().clean()
        except ValidationError as e:
            if e.code == "invalid_login":
                limits.record_failure(self.request, username)
            raise
        limits.record_success(self.request, username)
        return cleaned


class LimitedPasswordChangeForm(PasswordChangeForm):
    """Django's change-password form; wrong current passwords count as failed sign-ins, so
    a stolen session cannot be used to guess the password."""

    def __init__(self, user, *args, request=None, **kwargs) -> None:
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self) -> str:
        username = self.user.get_username()
        wait = limits.locked_for(self.request, username)
        if wait:
            raise ValidationError(limits.locked_message(wait), code="locked")
        try:
            return super().clean_old_password()
        except ValidationError:
            limits.record_failure(self.request, username)
            raise
