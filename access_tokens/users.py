"""
What the app knows about the host's user model: only what Django's AbstractBaseUser promises.

A host may use any AUTH_USER_MODEL: email as the USERNAME_FIELD, a UUID primary key, no email
field at all. Nothing in the app names `username`, `email` or an integer pk directly; it asks
here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

# The audit trail copies the owner's and actor's names into columns this wide (254 fits an
# email address as USERNAME_FIELD), so a row outlives the account.
NAME_MAX_LENGTH = 254


def username_field() -> str:
    """Return the name of the user model's USERNAME_FIELD (`username`, `email`, …)."""
    return get_user_model().USERNAME_FIELD


def email_field() -> str | None:
    """Return the name of the user model's email field, or None if it has none."""
    User = get_user_model()
    name = User.get_email_field_name()
    try:
        User._meta.get_field(name)
    except Exception:  # FieldDoesNotExist, or a model that is not a plain Django model
        return None
    return name


def email_of(user: AbstractBaseUser) -> str:
    """Return the user's email address, or "" when the model has none or it is blank."""
    name = user.get_email_field_name()
    return getattr(user, name, "") or ""


def display_name(user: AbstractBaseUser) -> str:
    """Return the user's name as the audit trail stores it (USERNAME_FIELD, cut to fit)."""
    return str(user.get_username())[:NAME_MAX_LENGTH]


def admin_change_url(user_id: object) -> str | None:
    """Return the admin page of a user, or None where the host does not register its user
    model in the admin."""
    opts = get_user_model()._meta
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[user_id])
    except NoReverseMatch:
        return None
