import datetime as dt
import re
import secrets

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format

from . import scopes, services
from .conf import token_settings
from .expiry import end_of_day
from .models import AccessToken
from .token_format import TOKEN_IN_TEXT_RE

_PRESET_DAYS = [(7, "7 days"), (30, "30 days"), (60, "60 days"), (90, "90 days"), (365, "1 year")]
SAME_LIFETIME = "same"
_NONCE_RE = re.compile(r"[A-Za-z0-9_-]{16,32}")


def is_form_nonce(value: str) -> bool:
    """Check that `value` has the shape of a nonce new_form_nonce() could have issued."""
    return bool(_NONCE_RE.fullmatch(value))


def new_form_nonce() -> str:
    """Return a one-time id for a create form, so a double submission creates one token."""
    return secrets.token_urlsafe(16)


class DescribedCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes whose description is tied to each box (aria-describedby), so a screen reader
    reads "api, checkbox, Full access to the API…" and the label stays the scope's name."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if option["attrs"].get("id"):
            option["attrs"]["aria-describedby"] = f"{option['attrs']['id']}_help"
        return option


class TokenDetailsForm(forms.Form):
    """A token's name and description: what the create form asks, and all its owner may
    change afterwards (the detail page's form), with the same rules."""

    name = forms.CharField(
        max_length=100,
        required=False,
        strip=True,
        help_text="What's this token for? Optional, up to 100 characters.",
        widget=forms.TextInput(attrs={"placeholder": "e.g. CI deploy", "autocomplete": "off"}),
    )
    description = forms.CharField(
        required=False,
        strip=True,
        max_length=1000,
        help_text="Where it is used, who to ask about it. Optional.",
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off"}),
    )

    def _forget_pasted_token(self, field: str) -> None:
        if TOKEN_IN_TEXT_RE.search(self.cleaned_data[field]):
            # Refused below; and the page must not echo the secret back into the field.
            self.data = self.data.copy()
            self.data[self.add_prefix(field)] = ""

    def clean_name(self) -> str:
        self._forget_pasted_token("name")
        try:
            return services.clean_token_name(self.cleaned_data["name"])
        except ValidationError as e:
            raise ValidationError(e.message_dict["name"]) from None

    def clean_description(self) -> str:
        self._forget_pasted_token("description")
        try:
            return services.clean_token_description(self.cleaned_data["description"])
        except ValidationError as e:
            raise ValidationError(e.message_dict["description"]) from None


class ExpiryForm(forms.Form):
    """The expiry picker: presets, a custom date, and no expiration where the server allows.

    The form owns the expiry arithmetic (a chosen day works through its end in the server's
    TIME_ZONE); `first_choice` puts one more option (rotation's "same lifetime") on top.
    """

    expiration = forms.ChoiceField(
        label="Expiration",
        widget=forms.Select(attrs={"aria-describedby": "id_expiration_helptext"}),
    )
    expires_on = forms.DateField(
        label="Custom date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, first_choice: tuple[str, str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = timezone.localdate(services._now())
        cap = token_settings.MAX_LIFETIME_DAYS
        choices = [first_choice] if first_choice else []
        for days, label in _PRESET_DAYS:
            if cap is None or days <= cap:
                on = date_format(self.today + dt.timedelta(days=days), "M j, Y")
                choices.append((str(days), f"{label} ({on})"))
        choices.append(("custom", "Custom date…"))
        self.offers_never = cap is None
        if self.offers_never:
            choices.append(("never", "No expiration"))
        self.fields["expiration"].choices = choices
        if first_choice:
            self.fields["expiration"].initial = first_choice[0]
        else:
            self.fields["expiration"].initial = "30" if cap is None or cap >= 30 else choices[0][0]
        self.fields["expires_on"].widget.attrs["min"] = self.today.isoformat()
        if cap is not None:
            latest = self.today + dt.timedelta(days=cap)
            self.fields["expires_on"].widget.attrs["max"] = latest.isoformat()

    def _clean_expiry(self, data: dict) -> bool:
        """Put the chosen expiry into data["expires_at"]; return False (with a field error)
        when there is none to put."""
        choice = data.get("expiration")
        if choice is None:
            return False
        if choice == "never":
            expires_at = None
        elif choice == "custom":
            day = data.get("expires_on")
            if day is None:
                if "expires_on" not in self.errors:
                    self.add_error("expires_on", "Pick a date, or choose a preset.")
                return False
            if day < self.today:
                self.add_error("expires_on", "Choose today or a later date.")
                return False
            try:
                expires_at = end_of_day(day)
            except OverflowError:
                self.add_error("expires_on", "That date is too far in the future.")
                return False
        elif choice.isdigit():
            expires_at = end_of_day(self.today + dt.timedelta(days=int(choice)))
        else:
            expires_at = services.KEEP
        data["expires_at"] = expires_at
        return True

    def add_service_errors(self, error: ValidationError) -> None:
        """Show a service's ValidationError on the fields it names."""
        for field, messages in error.message_dict.items():
            if field == "expires_at":
                custom = self.cleaned_data.get("expiration") == "custom"
                field = "expires_on" if custom else "expiration"
            self.add_error(None if field not in self.fields else field, messages)


class AccessTokenForm(ExpiryForm, TokenDetailsForm):
    """Create a personal access token for one user; services.create_access_token does it."""

    scopes = forms.MultipleChoiceField(
        label="Scopes",
        widget=DescribedCheckboxes,
        error_messages={"required": "Select at least one scope."},
    )
    nonce = forms.CharField(
        widget=forms.HiddenInput,
        error_messages={"required": "This form is out of date. Please try again."},
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.scope_descriptions = {s.name: s.description for s in scopes.registry().values()}
        self.fields["scopes"].choices = scopes.choices()

    def clean_nonce(self) -> str:
        nonce = self.cleaned_data["nonce"]
        if not is_form_nonce(nonce):
            raise ValidationError("This form is out of date. Please try again.")
        return nonce

    def scope_options(self) -> list[dict]:
        """Return each scope checkbox with its description, for the template."""
        return [
            {"widget": box, "description": self.scope_descriptions.get(box.data["value"], "")}
            for box in self["scopes"]
        ]

    def renew_nonce(self) -> None:
        """Give a bound form whose nonce was refused a new one, so the next submit can pass."""
        self.data = self.data.copy()
        self.data[self.add_prefix("nonce")] = new_form_nonce()

    def clean(self) -> dict:
        data = super().clean()
        if not self._clean_expiry(data) or "scopes" not in data:
            return data
        try:
            services.validate_new_token(
                user=self.user, expires_at=data["expires_at"], scopes=data["scopes"]
            )
        except ValidationError as e:
            self.add_service_errors(e)
        return data

    def save(self, *, request) -> tuple[AccessToken, str]:
        return services.create_access_token(
            user=self.user,
            name=self.cleaned_data["name"],
            description=self.cleaned_data["description"],
            expires_at=self.cleaned_data["expires_at"],
            scopes=self.cleaned_data["scopes"],
            request=request,
            form_nonce=self.cleaned_data["nonce"],
        )


class RotateTokenForm(ExpiryForm):
    """Regenerate a token: choose the new secret's expiry. By default the same lifetime from
    today (services.default_rotation_expiry), as the API does when asked for none."""

    def __init__(self, *args, token: AccessToken, **kwargs) -> None:
        default = services.default_rotation_expiry(token=token)
        if default is None:
            label = "Same as now: no expiration"
        else:
            days = (timezone.localdate(default) - timezone.localdate(services._now())).days
            on = date_format(timezone.localtime(default), "M j, Y")
            label = f"Same lifetime: {days} day{'s' if days != 1 else ''} ({on})"
        super().__init__(*args, first_choice=(SAME_LIFETIME, label), **kwargs)
        self.token = token

    def clean(self) -> dict:
        data = super().clean()
        self._clean_expiry(data)
        return data

    def save(self, *, request) -> tuple[AccessToken, str]:
        return services.rotate_access_token(
            token=self.token,
            actor=request.user,
            via=AccessToken.Via.WEB,
            expires_at=self.cleaned_data["expires_at"],
            request=request,
        )
