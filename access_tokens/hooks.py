"""
The questions this app asks its host project, each answered by one function the host may name
in a setting. The defaults work with django-allauth when it is installed and get out of the
way when it is not, so the app needs nothing from any particular accounts system.

- `ACCESS_TOKEN_CAN_EMAIL_USER`: dotted path to `fn(user) -> bool`, whether the user's address
  may be mailed (token created, revoked by an operator, expiring soon). Default: with
  `allauth.account` installed, only once the user's primary address is verified; else True.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.apps import apps
from django.utils.module_loading import import_string

from .conf import token_settings
from .users import email_of

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def _resolve(value: str | Callable | None, default: Callable) -> Callable:
    if value is None:
        return default
    return import_string(value) if isinstance(value, str) else value


def address_is_verified(user: AbstractBaseUser) -> bool:
    """Return whether allauth has verified the address on the user's account."""
    from allauth.account.models import EmailAddress

    address = email_of(user)
    return EmailAddress.objects.filter(user=user, email__iexact=address, verified=True).exists()


def _default_can_email_user(user: AbstractBaseUser) -> bool:
    if apps.is_installed("allauth.account"):
        return address_is_verified(user)
    return True


def can_email_user(user: AbstractBaseUser) -> bool:
    """Return whether this app may mail `user`: they have an address and the host allows it.

    Until an address is proven, a stranger who signed up with someone else's address could
    otherwise have us mail that person every time they create a token.
    """
    if not email_of(user):
        return False
    check = _resolve(token_settings.CAN_EMAIL_USER, _default_can_email_user)
    return bool(check(user))
